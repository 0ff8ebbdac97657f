"""AWS Lambda entry point: API Gateway HTTP API (payload 2.0) → the GlyphMemory app."""

from glyphmemory.aws_lambda import lambda_handler

__all__ = ["lambda_handler"]
