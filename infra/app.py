"""cdk.json runs this: `npx cdk synth` builds the GlyphMemory stack (no AWS account needed)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `python3 infra/app.py` puts infra/ first on sys.path, where its modules would shadow the
# standard library's; import them as the infra package instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra"]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from aws_cdk import App, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from glyphmemory import names  # noqa: E402
from infra.stack import GlyphMemoryStack  # noqa: E402


def build_app(outdir: str | None = None, **context) -> App:
    app = App(outdir=outdir, context=context or None)
    GlyphMemoryStack(app, app.node.try_get_context("stackName") or names.STACK_NAME)
    Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
