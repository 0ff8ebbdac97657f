"""CDN: CloudFront in front of the API. Reads may be cached briefly, keyed by the token;
writes and auth routes never are."""

from __future__ import annotations

from aws_cdk import Duration, Fn
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from constructs import Construct

from glyphmemory import names

READ_MAX_TTL = Duration.seconds(60)
# The connector's paths (OAuth and /mcp, with Authorization passed on) and the grants' admin.
UNCACHED_PATHS = (
    "/w",
    "/v1/tokens",
    "/v1/keys",
    "/v1/keys/*",
    "/v1/connectors",
    "/v1/connectors/*",
    "/mcp",
    "/register",
    "/authorize",
    "/token",
    "/.well-known/*",
    "/ui",
    "/ui/*",
)

# API Gateway sees its own host (the Host header is not forwarded), so the public host the
# viewer used is passed on in a header of our own, overwriting whatever a client sent in it;
# /r builds its links from it (glyphmemory.http.chat_routes.public_base_url).
_PUBLIC_HOST_FUNCTION = f"""
function handler(event) {{
  var request = event.request;
  request.headers['{names.PUBLIC_HOST_HEADER}'] = {{ value: request.headers.host.value }};
  return request;
}}
"""


class Cdn(Construct):
    def __init__(self, scope: Construct, id: str, *, http_api: apigwv2.HttpApi) -> None:
        super().__init__(scope, id)
        origin_domain = Fn.select(2, Fn.split("/", http_api.api_endpoint))
        origin = origins.HttpOrigin(origin_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY)
        read_cache = cloudfront.CachePolicy(
            self,
            "ReadCache",
            comment="GlyphMemory reads: keyed by the whole query string and the token headers",
            default_ttl=Duration.seconds(0),  # only what the app marks cacheable is kept
            min_ttl=Duration.seconds(0),
            max_ttl=READ_MAX_TTL,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization", "X-Glyph-Token"),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    # Not overriding: the sign-in page sends its own (its stylesheet's hash, where
                    # the form may post); every other answer gets this one.
                    content_security_policy="default-src 'none'; frame-ancestors 'none'",
                    override=False,
                ),
            ),
        )
        public_host = cloudfront.Function(
            self,
            "PublicHost",
            code=cloudfront.FunctionCode.from_inline(_PUBLIC_HOST_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

        def behavior(cache_policy: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,  # only GET/HEAD are ever cached
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                cache_policy=cache_policy,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=headers,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=public_host, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="GlyphMemory",
            default_behavior=behavior(read_cache),
            additional_behaviors={path: behavior(cloudfront.CachePolicy.CACHING_DISABLED) for path in UNCACHED_PATHS},
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # No standard access logs: they record the query string, and tokens live there.
            enable_logging=False,
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
