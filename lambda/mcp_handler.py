"""AWS Lambda entry point of the remote MCP connector: /mcp and its OAuth routes (its own
function, so that the memory function's cold start never pays for the MCP SDK)."""

import glyphmemory.mcp_http  # noqa: F401  (the SDK, ~1.4 s of CPU: paid in INIT, not in the first request)
from glyphmemory import aws_lambda

aws_lambda.serve_routes("all")
lambda_handler = aws_lambda.lambda_handler

__all__ = ["lambda_handler"]
