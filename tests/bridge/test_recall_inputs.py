"""The bridge's recall (DESIGN §17) on messages in other scripts: a message whose words the
search keeps as digits that are not decimal (Ethiopic digits: `፫፬`, which int() refuses) is answered like any
other, with the relevant memory after the last breakpoint. glyph serve and glyph bridge are real
processes, the Messages API the fake one."""

from __future__ import annotations

import pytest

from ..e2e.test_glyph_serve import glyph
from .test_local import bridge, say  # noqa: F401 (the fixture: glyph bridge over glyph serve)

pytestmark = pytest.mark.e2e
ETHIOPIC = "When does the staging database password for room ፫፬ rotate?"  # ፫፬: 3 then 4, digits, not decimal


def test_a_message_with_ethiopic_numerals_is_answered_with_its_memory(bridge):  # noqa: F811
    glyph(bridge.env, "write", "The staging database password rotates every 90 days via Vault")
    for i in range(15):  # newer ones fill the block: the Vault memory is not in it
        glyph(bridge.env, "write", f"Note {i}: the weekly report lists open incidents, their owners and due dates")
    with bridge.connect() as ws:
        frames = say(ws, "ethiopic", ETHIOPIC)
    assert frames[-1]["type"] == "done", frames[-1]
    asked, added = bridge.fake.replies()[-1]["body"]["messages"][-1]["content"]
    assert asked["text"] == ETHIOPIC and "> The staging database password rotates" in added["text"]

    # The same prompt from a terminal.
    shown = glyph(bridge.env, "recall", ETHIOPIC, check=False)
    assert (shown.returncode, shown.stderr) == (0, "") and "rotates every 90 days via Vault" in shown.stdout
