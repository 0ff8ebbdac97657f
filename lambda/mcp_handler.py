"""AWS Lambda entry point of the connector function: /mcp with its OAuth routes, and the web page
/ui (its own function, so that the memory function never loads the MCP SDK or Jinja2; the SDK
is imported by the first /mcp request that needs it: not by a page's, nor by `initialize`, which
glyphmemory.mcp_first answers)."""

from glyphmemory.aws_lambda import LambdaDoor

door = LambdaDoor("all")
lambda_handler = door.handle

__all__ = ["lambda_handler"]
