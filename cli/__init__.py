"""The `glyph` command: a thin door into glyphmemory (see main.py)."""
