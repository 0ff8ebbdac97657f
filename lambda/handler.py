"""AWS Lambda entry point: API Gateway HTTP API (payload 2.0) → the GlyphMemory app."""

from glyphmemory.aws_lambda import LambdaDoor

door = LambdaDoor("api")
lambda_handler = door.handle

__all__ = ["lambda_handler"]
