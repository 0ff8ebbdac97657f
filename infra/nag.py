"""cdk-nag AwsSolutions findings we accept, each with its rule and the reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

ACKNOWLEDGED: dict[str, str] = {
    "AwsSolutions::AwsSolutions-L1": (
        "python3.12 on purpose: the fastest Python cold start measured (71-80 ms mean on arm64 "
        "against 109-129 ms for python3.14, maxday/lambda-perf Dec 2025); it is supported until 2028"
    ),
    "AwsSolutions::AwsSolutions-APIG4": (
        "authorisation is in the application: every route but health and openapi.json checks an "
        "HMAC window token or a single-use TOTP code (and optional basic auth); an API Gateway "
        "authorizer would add a second Lambda invocation per request and cannot read chat URL tokens"
    ),
    "AwsSolutions::AwsSolutions-CFR3": (
        "CloudFront standard logs record the full query string, and chat URLs carry tokens in it "
        "(t=, code=); API Gateway access logs without query strings record every request instead"
    ),
    "AwsSolutions::AwsSolutions-CFR4": (
        "no custom domain: the default *.cloudfront.net certificate cannot set a minimum TLS "
        "version; with a custom domain and ACM certificate, TLSv1.2_2021 is the setting to use"
    ),
    "AwsSolutions::AwsSolutions-CFR1": (
        "one owner who travels with phone and laptop: a geo restriction would lock them out abroad"
    ),
    "AwsSolutions::AwsSolutions-CFR2": (
        "AWS WAF costs at least $5 a month plus rules, more than ten times this whole system; the "
        "app bounds every input itself (8 KiB URLs, 32 KiB texts, bounded decompression) and the "
        "API stage throttles at 20 requests per second"
    ),
    # Granular: only this one resource, not wildcards in general.
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]": (
        "kms:Decrypt for the SSM SecureString: it uses the account's aws/ssm key, whose key id the "
        "stack cannot know; the statement is limited by the condition kms:ViaService = "
        "ssm.<region>.amazonaws.com, so only SSM can use it on the function's behalf"
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<BridgeWebSocketApiFDC4279F>/prod/POST/@connections/*]": (
        "post_to_connection for the bridge's route and worker: connection ids are made by API Gateway "
        "per client connection, so the resource names this one API, its one stage and the POST "
        "@connections path, and only the connection id is a wildcard"
    ),
}


def acknowledge_findings(stack: Stack) -> None:
    Validations.of(stack).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in ACKNOWLEDGED.items()))
