"""AWS over signed HTTPS from the standard library: no SDK on a function's cold path.

`sigv4` signs a request; `client` sends AWS JSON-protocol calls (DynamoDB, SSM) with the SDK's
retry rules over one kept-alive connection per service.
"""
