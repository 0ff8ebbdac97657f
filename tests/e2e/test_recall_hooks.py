"""The hooks as Claude Code runs them (DESIGN §17): a shell command with the event's JSON on stdin
and a timeout. SessionStart (`glyph context --hook`) starts from the project's namespace (a
`.glyph` file, else the git work tree's name) then the default one; UserPromptSubmit (`glyph
recall --hook`) adds the memories that match the prompt well and the start block did not show,
and stays silent otherwise, also when the server is gone. glyph serve is a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env, stop
from .test_glyph_serve import glyph
from .test_hook_budget import served  # noqa: F401 (the fixture: glyph serve on SQLite)

pytestmark = pytest.mark.e2e
PLUGIN_HOOKS = json.loads((Path(__file__).parents[2] / "skills" / "hooks" / "hooks.json").read_text())["hooks"]


def hook(env: dict, event: str, payload: dict, command: str | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run the plugin's hook for `event` as Claude Code does: its command line in a shell, the
    JSON on stdin, its timeout."""
    (entry,) = PLUGIN_HOOKS[event]
    (spec,) = entry["hooks"]
    env = {**env, "PATH": f"{Path(GLYPH).parent}:{env.get('PATH', '/usr/bin:/bin')}"}
    started = time.monotonic()
    result = subprocess.run(
        command or spec["command"],
        shell=True,
        env=env,
        input=json.dumps({"hook_event_name": event, **payload}),
        capture_output=True,
        text=True,
        timeout=spec["timeout"],
        cwd=payload.get("cwd"),
    )
    return result, time.monotonic() - started


def test_the_session_starts_from_the_projects_memories_then_the_default_ones(served, tmp_path):  # noqa: F811
    env, _ = served
    repo = tmp_path / "Work" / "My App"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    glyph(env, "write", "User prefers short answers")  # default
    glyph(env, "write", "My App deploys with make ship", "--ns", "my-app")
    glyph(env, "write", "Other project fact", "--ns", "other")

    started, _ = hook(env, "SessionStart", {"session_id": "s1", "cwd": str(repo / "src"), "source": "startup"})
    out = started.stdout
    assert started.returncode == 0 and started.stderr == ""
    assert out.startswith("GlyphMemory: this session's project namespace is `my-app`")
    assert "glyph write --ns my-app" in out
    assert out.index("My App deploys with make ship") < out.index("User prefers short answers")
    assert "Other project fact" not in out and len(out.encode("utf-16-le")) // 2 <= 9000

    # A .glyph file names the project, above the work tree's name; it also opts the CLI in.
    (tmp_path / "Work" / ".glyph").write_text("# GlyphMemory\nnamespace = other\n")
    started, _ = hook(env, "SessionStart", {"session_id": "s2", "cwd": str(repo)})
    assert "namespace is `other`" in started.stdout and "Other project fact" in started.stdout
    written = json.loads(
        subprocess.run(
            [GLYPH, "write", "Written inside the project", "--json"], env=env, cwd=repo, capture_output=True, text=True
        ).stdout
    )
    assert written["namespace"] == "other"
    recent = subprocess.run([GLYPH, "recent"], env=env, cwd=repo, capture_output=True, text=True).stdout
    assert "Written inside the project" in recent and "User prefers short answers" not in recent
    read_url = subprocess.run([GLYPH, "url", "read"], env=env, cwd=repo, capture_output=True, text=True).stdout
    assert "&ns=other" in read_url  # the chat's read URL too

    # Only a .glyph file opts the CLI in: in a bare work tree writes stay in default.
    (tmp_path / "Work" / ".glyph").unlink()
    plain = subprocess.run(
        [GLYPH, "write", "Still default", "--json"], env=env, cwd=repo, capture_output=True, text=True
    )
    assert json.loads(plain.stdout)["namespace"] == "default"

    # No project (no .git, no .glyph): the default namespace's block as before.
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    started, _ = hook(env, "SessionStart", {"session_id": "s3", "cwd": str(alone)})
    assert started.stdout.startswith("# GlyphMemory context · namespace `default`")


def test_the_prompt_hook_adds_what_matches_and_the_start_block_lacks(served, tmp_path):  # noqa: F811
    env, proc = served
    glyph(env, "write", "The staging database password rotates every 90 days via Vault")
    for i in range(30):
        glyph(env, "write", f"Note {i}: the weekly report lists open incidents and their owners")
    shown = glyph(env, "write", "The release train leaves on Thursdays at noon", "--json").stdout
    shown_id = json.loads(shown)["id"]
    start_cmd = PLUGIN_HOOKS["SessionStart"][0]["hooks"][0]["command"].replace("9000", "600")
    started, _ = hook(env, "SessionStart", {"session_id": "abc", "cwd": str(tmp_path)}, start_cmd)
    assert shown_id in started.stdout and "Vault" not in started.stdout

    asked, seconds = hook(
        env,
        "UserPromptSubmit",
        {"session_id": "abc", "cwd": str(tmp_path), "prompt": "How often does the staging database password rotate?"},
    )
    assert asked.returncode == 0 and asked.stderr == "" and seconds < 1.5
    assert asked.stdout.startswith("GlyphMemory: saved memories that may bear on this prompt")
    assert "> The staging database password rotates every 90 days via Vault" in asked.stdout
    assert len(asked.stdout.encode("utf-16-le")) // 2 <= 1500

    # The question with a log pasted before it: it matches by its own sentence.
    pasted = (
        'Traceback (most recent call last): File "/srv/app/worker.py", line 88, in run: '
        "psycopg.errors.OperationalError: connection refused; the nightly job stalled. "
        "How often does the staging database password rotate?"
    )
    long, _ = hook(env, "UserPromptSubmit", {"session_id": "abc", "cwd": str(tmp_path), "prompt": pasted})
    assert "> The staging database password rotates every 90 days via Vault" in long.stdout

    # Already in this session's start block: not repeated. Another session has not seen it.
    same = {"cwd": str(tmp_path), "prompt": "When does the release train leave on Thursdays?"}
    assert hook(env, "UserPromptSubmit", {**same, "session_id": "abc"})[0].stdout == ""
    assert shown_id in hook(env, "UserPromptSubmit", {**same, "session_id": "new"})[0].stdout

    # Nothing relevant: nothing at all. No prompt, or broken JSON: nothing, exit 0.
    quiet = hook(env, "UserPromptSubmit", {"session_id": "abc", "prompt": "Write a haiku about autumn leaves"})[0]
    assert quiet.stdout == "" and quiet.returncode == 0
    assert hook(env, "UserPromptSubmit", {"session_id": "abc"})[0].stdout == ""
    broken = subprocess.run(
        "glyph recall --hook",
        shell=True,
        input="{not json",
        capture_output=True,
        text=True,
        timeout=3,
        env={**env, "PATH": f"{Path(GLYPH).parent}:/usr/bin:/bin"},
    )
    assert (broken.returncode, broken.stdout, broken.stderr) == (0, "", "")

    stop(proc)  # the server is gone: the prompt goes on, quickly and silently
    gone, seconds = hook(env, "UserPromptSubmit", {"session_id": "abc", "prompt": "staging database password"})
    assert (gone.returncode, gone.stdout, gone.stderr) == (0, "", "") and seconds < 2.0


def test_the_prompt_hook_gives_up_silently_on_a_server_that_does_not_answer(tmp_path):
    import socket

    from glyphmemory.keys import ensure_key_file

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = clean_env(GLYPH_HOME=str(tmp_path / "home"), GLYPH_URL=f"http://127.0.0.1:{silent.getsockname()[1]}")
        ensure_key_file(str(tmp_path / "home" / "key.json"))  # as on a set-up machine
        result, seconds = hook(env, "UserPromptSubmit", {"session_id": "x", "prompt": "staging database password"})
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert 1.4 <= seconds < 2.5


def test_the_prompt_hook_shows_the_best_hits_of_each_namespace_that_matches_well(served, tmp_path):  # noqa: F811
    """A namespace's search decides once whether it matches the prompt (one of its first hits
    holds enough of the prompt's words, or a month and year it names as its writing date); then
    its best hits show in the search's order, the project's first, also one holding a single
    word of the prompt (the evidence often does). A namespace whose search matches nothing well
    shows nothing."""
    env, _ = served
    july = 1_689_000_000_000_000  # 2023-07-10, in microseconds
    march_2024 = 1_710_000_000_000_000
    lines = [
        {"text": "Moved the staging database to Postgres 16", "epoch_us": july, "namespace": "shop"},
        {"text": "Staging is rebuilt from scratch each night", "epoch_us": july + 1, "namespace": "shop"},
        {"text": "Releases need two approvals", "epoch_us": july + 2, "namespace": "shop"},
        {"text": "The user reads database plans slowly; keep them short", "epoch_us": march_2024},
        {"text": "Coffee order: one flat white", "epoch_us": march_2024 + 1},
    ]
    dump = tmp_path / "import.ndjson"
    dump.write_text("".join(json.dumps({**line, "source": "test"}) + "\n" for line in lines))
    glyph(env, "import", str(dump))
    (tmp_path / ".glyph").write_text("namespace = shop\n")

    # 2 of the 5 terms (staging, database) and the month and year: the project's search matches.
    asked, _ = hook(
        env,
        "UserPromptSubmit",
        {"session_id": "d", "cwd": str(tmp_path), "prompt": "What did we change in the staging database in July 2023?"},
    )
    out = asked.stdout
    assert "> Moved the staging database to Postgres 16" in out
    assert "> Staging is rebuilt from scratch each night" in out  # one word of the prompt, shown after
    assert out.index("Postgres 16") < out.index("rebuilt from scratch")
    assert out.startswith("GlyphMemory: saved memories that may bear on this prompt (namespace `shop`), ")
    assert "\n2023-07-10 `" in out  # the day and the id, the namespace said once above
    # The default namespace's best hit holds 1 of the 5 terms: its search does not match well.
    assert "database plans" not in out and "Coffee" not in out and "approvals" not in out

    # The same words without the date: 2 of 4 terms for the project's, and the default's matches too.
    asked, _ = hook(
        env,
        "UserPromptSubmit",
        {"session_id": "d", "cwd": str(tmp_path), "prompt": "Which database plans for staging?"},
    )
    out = asked.stdout
    assert out.index("Postgres 16") < out.index("database plans") < out.index("rebuilt from scratch")
    assert "` in `shop`\n> Moved the staging" in out and "` in `default`\n> The user reads" in out
    assert "Coffee" not in out and len(out.encode("utf-16-le")) // 2 <= 1500


def test_the_prompt_hook_loads_neither_argparse_nor_the_other_commands(tmp_path):
    """Claude Code starts `glyph recall --hook` before every prompt: that exact command line
    skips the parser and the other commands' modules (what made the hook slow to start)."""
    code = (
        "import sys; sys.argv = ['glyph', 'recall', '--hook']; from glyph_cli.main import main; code = main(); "
        "print(code, sorted(m for m in ('argparse', 'glyph_cli.memories', 'glyph_cli.admin', 'glyph_cli.install', "
        "'glyph_cli.mcp', 'glyph_cli.context') if m in sys.modules))"
    )
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"), GLYPH_URL="http://127.0.0.1:9")
    event = json.dumps({"session_id": "s", "prompt": "staging database password"})
    done = subprocess.run(
        [sys.executable, "-c", code], input=event, env=env, capture_output=True, text=True, timeout=10
    )
    assert (done.stdout, done.stderr) == ("0 []\n", "")
    # Any other command line still goes through the parser: the same command with --ns, and --help.
    assert "namespace" in subprocess.run([GLYPH, "recall", "--help"], env=env, capture_output=True, text=True).stdout


# A log as it is pasted: every line holds new terms (paths, numbers, names), so its first 200
# characters alone hold more than the search's 32 terms.
DENSE_LOG = """Traceback (most recent call last):
  File "/srv/app/worker.py", line 88, in handle
    result = client.fetch(url, timeout=timeout)
  File "/srv/app/http_client.py", line 41, in fetch
    raise FetchError(f"{resp.status} from {url}")
app.errors.FetchError: 503 from https://billing.internal/api/v2/charges
2026-11-30T10:02:11Z WARN retrying in 4s attempt=2/5 queue=billing-sync
2026-11-30T10:02:23Z ERROR giving up queue=billing-sync job=8812"""


def test_a_question_beside_a_dense_log_is_searched_and_printed(served, tmp_path):  # noqa: F811
    """The question's terms are searched whatever the paste holds: before or after a log whose
    beginning alone holds more terms than a search looks up (names.SEARCH_MAX_TERMS), in a
    prompt shorter than a query (500 characters) or longer."""
    env, _ = served
    glyph(env, "write", "Postgres version is 15; the connection pool size is 20 in production")
    for i in range(10):
        glyph(env, "write", f"Note {i}: the weekly report lists open incidents and their owners")
    question = "Which postgres version do we run in production?"
    longer = f"{DENSE_LOG}\n{DENSE_LOG.replace('billing', 'mail')}"
    for prompt in (f"{DENSE_LOG}\n{question}", f"{question}\n{DENSE_LOG}", f"{longer}\n{question}"):
        asked, _ = hook(env, "UserPromptSubmit", {"session_id": "dense", "cwd": str(tmp_path), "prompt": prompt})
        assert (asked.returncode, asked.stderr) == (0, "")
        assert "> Postgres version is 15; the connection pool size is 20 in production" in asked.stdout, prompt


def test_a_pasted_texts_inner_sentence_does_not_make_the_hook_speak(served, tmp_path):  # noqa: F811
    """A prompt's question is at its beginning or its end, beside what was pasted: only those
    sentences are judged alone (the first and the last of at least 3 terms; a greeting or a
    'Thanks!' is too short to count). A line inside the paste that shares 3 common words with a
    memory ('make sure', 'keep', 'short') says nothing about the prompt."""
    env, _ = served
    glyph(env, "write", "Release checklist: keep the changelog short, make sure the version matches the tag")
    glyph(env, "write", "The staging database password rotates every 90 days via Vault")
    for i in range(10):
        glyph(env, "write", f"Note {i}: the weekly report lists open incidents and their owners")
    recipe = (
        "Can you translate this recipe into German?\nPreheat the oven to 200 degrees.\n"
        "Make sure the butter is soft and keep the dough short so it stays crisp.\n"
        "Bake for 25 minutes until golden.\nServe warm with cream."
    )
    question = "How often does the staging database password rotate?"
    event = {"session_id": "inner", "cwd": str(tmp_path)}
    assert hook(env, "UserPromptSubmit", {**event, "prompt": recipe})[0].stdout == ""
    for prompt in (f"Hi!\n{question}\n{DENSE_LOG}", f"{DENSE_LOG}\n{question}\nThanks!"):
        asked, _ = hook(env, "UserPromptSubmit", {**event, "prompt": prompt})
        assert "> The staging database password rotates every 90 days via Vault" in asked.stdout, prompt
