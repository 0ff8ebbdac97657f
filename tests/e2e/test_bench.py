"""`make bench` in its quick plan: every benchmark runs and RESULTS.md carries each section,
its baseline and a verdict per goal (the figures themselves are the full run's, in bench/)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ..support.processes import ROOT

pytestmark = pytest.mark.e2e


def test_the_quick_benchmark_plan_writes_every_section(tmp_path):
    out = tmp_path / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text()
    for title in (
        "Read cost",
        "Deployed cold path (simulated)",
        "In-process latency",
        "Local HTTP",
        "CLI start",
        "URL capacity",
        "Cost model",
        "Redaction",
        "MCP: GlyphMemory beside the reference memory server",
        "MCP connector cold start",
        "Conversation bridge",
        "Search quality (LoCoMo)",
        "Search cost",
    ):
        assert f"## {title}" in text, title
    assert re.search(r"- Date: \d{4}-\d\d-\d\d .* commit [0-9a-f]{7}", text)
    verdicts = re.findall(r"^- .*Goal.*\*\*(\d+\.\d+)( ms)?×?, (met|NOT met)\*\*", text, re.M)
    assert len(verdicts) >= 9, text[:3000]
    assert "| 1,000 | 21 |" in text  # 20 most recent read 21 items at 1,000 memories too
    # The prompt hook on the deployed path: in that section, and its line in the recall section.
    assert "| CPU share | prompt hook wall p50 / p90 | session-start hook p50 / p90 |" in text
    assert "On the deployed-path simulation (a cold function at 0.29" in text.split("## Recall at the right moment")[1]
