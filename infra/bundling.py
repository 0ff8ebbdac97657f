"""Build the Lambda asset without Docker: the handler, the glyphmemory package and its
pure-Python runtime dependencies (boto3 is in the Lambda runtime already)."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the Lambda imports beyond the standard library and boto3.
RUNTIME_PACKAGES = ("pyotp",)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "py.typed")


def build_lambda_asset(out_dir: str | Path) -> Path:
    """Fill out_dir with what the function needs; refuse compiled extensions (arm64 target)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "lambda" / "handler.py", out / "handler.py")
    shutil.copytree(ROOT / "src" / "glyphmemory", out / "glyphmemory", ignore=_IGNORE, dirs_exist_ok=True)
    for name in RUNTIME_PACKAGES:
        source = Path(importlib.import_module(name).__file__).parent
        shutil.copytree(source, out / name, ignore=_IGNORE, dirs_exist_ok=True)
    compiled = [p for p in out.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    if compiled:
        raise RuntimeError(f"the Lambda asset must be pure Python; found {compiled[0]}")
    return out
