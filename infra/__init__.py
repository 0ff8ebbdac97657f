"""The CDK app that puts GlyphMemory on AWS: one construct per concern."""
