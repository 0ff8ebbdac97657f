"""The spool as a user meets it: nothing secret waits on the disk, an answer that will never change
sets an entry aside (with its real status) while the rest go on, and only what is worth another
try (no answer, 408, 429, 5xx, a refused key) waits for the next command."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ..support.processes import clean_env, glyph_served, start_glyph_serve, stop
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
SECRETS = Path(__file__).resolve().parents[1] / "data" / "redaction" / "secrets.tsv"


def samples() -> list[tuple[str, str, str]]:
    """The first planted secret of every kind of the redactor's table: (kind, secret, text)."""
    seen: dict[str, tuple[str, str, str]] = {}
    for line in SECRETS.read_text().splitlines():
        if line and not line.startswith("#"):
            kind, secret, text = line.split("\t")
            seen.setdefault(kind, (kind, secret, text.replace("\\n", "\n")))
    return list(seen.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spool_lines(home: Path, name: str = "spool.ndjson") -> list[dict]:
    path = home / name
    return [json.loads(line) for line in path.read_text().split("\n") if line] if path.exists() else []


def write_spool(home: Path, payloads: list[dict]) -> None:
    """Entries as an earlier glyph spooled them (before it redacted anything)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "spool.ndjson").write_text(
        "".join(json.dumps({"spooled_at": 1_764_500_000, "payload": p}) + "\n" for p in payloads)
    )


def test_an_offline_write_is_redacted_before_it_touches_the_disk_and_arrives_redacted(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    env = clean_env(GLYPH_HOME=str(home), GLYPH_REDACT="refuse")
    proc, url = start_glyph_serve(env, port=port)  # creates the key, then goes away
    stop(proc)
    env["GLYPH_URL"] = url
    planted = samples()
    assert len(planted) >= 15
    for kind, _, text in planted:
        result = glyph(env, "write", "-", stdin=text)
        assert result.stdout.startswith("spooled (server unreachable)")
        assert "secrets were removed before spooling" in result.stderr, kind
    on_disk = (home / "spool.ndjson").read_text()
    for kind, secret, _ in planted:
        assert secret not in on_disk, kind
    assert on_disk.count("[redacted:") >= len(planted)

    proc, _ = start_glyph_serve(env, port=port)  # a server that refuses secrets takes them as they are now
    try:
        recent = glyph(env, "recent", "-n", "100", "--json")
        texts = [m["text"] for m in json.loads(recent.stdout)["items"]]
        assert len(texts) == len(planted) and all("[redacted:" in t for t in texts)
        assert not (home / "spool.ndjson").exists() and not (home / "spool.rejected.ndjson").exists()
    finally:
        stop(proc)


def test_mcp_save_memory_offline_spools_the_redacted_text(tmp_path):
    from ..mcp.test_stdio import run

    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=f"http://127.0.0.1:{free_port()}", GLYPH_KEY="root:" + "A" * 32)
    text = "deploy note: AWS key AKIAABCDEFGHIJKLMNOP and ghp_" + "a1B2" * 9
    saved = run(env, lambda s: s.call_tool("save_memory", {"text": text}))
    assert saved.structured_content["spooled"] is True
    assert saved.structured_content["redacted"] == ["aws-access-key", "github-token"]
    on_disk = (home / "spool.ndjson").read_text()
    assert "AKIAABCDEFGHIJKLMNOP" not in on_disk and "ghp_" not in on_disk and "[redacted:aws-access-key]" in on_disk


@pytest.fixture
def served(tmp_path):
    """glyph serve refusing secrets (GLYPH_REDACT=refuse): (its GLYPH_HOME, the CLI's env)."""
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_REDACT="refuse")
    with glyph_served(env) as url:
        yield home, {**env, "GLYPH_URL": url}


def test_a_refused_entry_is_set_aside_with_its_status_and_the_rest_are_delivered(served):
    home, env = served
    write_spool(
        home,
        [
            {"text": "first, fine"},
            {"text": "deploy note: AWS key AKIAABCDEFGHIJKLMNOP"},  # 422 under GLYPH_REDACT=refuse
            {"text": "a bad namespace", "namespace": "no spaces allowed"},  # 400
            {"text": "too long " * 5000},  # over the text limit
            {"text": "last, fine"},
        ],
    )
    result = glyph(env, "recent", "--json")
    assert [m["text"] for m in json.loads(result.stdout)["items"]] == ["last, fine", "first, fine"]
    assert not (home / "spool.ndjson").exists()
    aside = spool_lines(home, "spool.rejected.ndjson")
    assert [e["status"] for e in aside][0] == 422 and all(400 <= e["status"] < 500 for e in aside)
    assert len(aside) == 3 and all(e["error"] for e in aside)
    assert "AKIAABCDEFGHIJKLMNOP" not in (home / "spool.rejected.ndjson").read_text()  # redacted there too
    assert "refused a spooled memory (422:" in result.stderr and "(400:" in result.stderr
    assert "not reachable" not in result.stderr and "delivered 2 spooled memories" in result.stderr


@pytest.mark.parametrize(
    ("status", "problem", "words"),
    [
        (408, True, "the server answered 408 (answer 408)"),
        (429, True, "the server answered 429"),
        (500, True, "the server answered 500"),
        (503, True, "the server answered 503"),
        (401, True, "the server refused this key (401: answer 401); they are kept"),
        (403, True, "the server refused this key (403"),
        (404, False, "the server answered 404"),  # not the API's answer: a proxy, a wrong URL
    ],
)
def test_only_a_refusal_of_the_entry_itself_sets_it_aside(answering, tmp_path, status, problem, words):
    if problem:
        answering.problem(status, f"answer {status}")
    else:
        answering.answer = (status, "<h1>no</h1>", "text/html")
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=answering.url, GLYPH_KEY="root:" + "A" * 32)
    write_spool(home, [{"text": "one"}, {"text": "two"}])
    before = (home / "spool.ndjson").read_text()
    result = glyph(env, "search", "anything", check=False)
    assert words in result.stderr and "not reachable" not in result.stderr
    assert (home / "spool.ndjson").read_text() == before and not (home / "spool.rejected.ndjson").exists()
    listed = json.loads(glyph(env, "spool", "--json").stdout)
    assert listed["delivered"] == 0 and len(listed["remaining"]) == 2 and words in listed["reason"]


def test_a_revoked_key_keeps_the_spool_and_says_so(served):
    home, env = served
    added = json.loads(glyph(env, "keys", "add", "laptop", "--json").stdout)
    laptop = {**env, "GLYPH_KEY": f"{added['kid']}:{added['secret']}"}
    glyph(env, "keys", "revoke", added["kid"])
    write_spool(home, [{"text": "written on the laptop"}])
    result = glyph(laptop, "recent", check=False)
    assert result.returncode == 2
    assert "1 memory still spooled" in result.stderr and "the server refused this key (401" in result.stderr
    assert len(spool_lines(home)) == 1 and not (home / "spool.rejected.ndjson").exists()
    # With a valid key the same spool goes out, first thing.
    assert "delivered 1 spooled memory" in glyph(env, "recent").stderr


def test_edit_delivers_the_spool_first(served):
    home, env = served
    memory = json.loads(glyph(env, "write", "we ship on Fridays", "--json").stdout)
    write_spool(home, [{"text": "written while the server was down"}])
    result = glyph(env, "edit", memory["id"], "we ship on Thursdays")
    assert "delivered 1 spooled memory" in result.stderr and not (home / "spool.ndjson").exists()


def test_line_and_paragraph_separators_in_a_spooled_text_arrive_as_written(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    env = clean_env(GLYPH_HOME=str(home))
    proc, url = start_glyph_serve(env, port=port)
    stop(proc)
    env["GLYPH_URL"] = url
    texts = ["steps:\u2028one\u2028two", "para one\u2029para two", "tabs\tand\r\nwindows lines"]
    for text in texts:
        glyph(env, "write", text)
    assert len((home / "spool.ndjson").read_bytes().split(b"\n")) == len(texts) + 1  # one entry a line
    proc, _ = start_glyph_serve(env, port=port)
    try:
        recent = json.loads(glyph(env, "recent", "--json").stdout)["items"]
        assert [m["text"] for m in recent] == [texts[2].replace("\r\n", "\n"), texts[1], texts[0]]
        assert not (home / "spool.rejected.ndjson").exists()
    finally:
        stop(proc)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--ttl-days", "nan"], "ttl_days must be a number of days"),
        (["--ttl-days", "inf"], "ttl_days must be a number of days"),
        (["--ttl-days", "0"], "ttl_days must be more than 0"),
        (["--ttl-days", "-1"], "ttl_days must be more than 0"),
        (["--ttl-days", "99999"], "at most 3650"),
        (["--ns", "Bad NS"], "namespace must be"),
        (["--tags", ",".join(f"t{i}" for i in range(40))], "at most 16"),
        (["--session", "s" * 500], "session must be"),
        (["--text", "\u200b\u2060\ufeff"], "text is empty"),  # only invisible characters
        (["--text", "y" * 40_000], "the limit is 32768"),
    ],
)
def test_an_offline_write_the_server_would_refuse_is_refused_at_once_not_spooled(tmp_path, args, words):
    """Told 'spooled, it will be sent', the user leaves; the entry is refused later, unseen. The
    server's own checks run before anything is spooled: a clear error now, and nothing on disk."""
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=f"http://127.0.0.1:{free_port()}", GLYPH_KEY="root:" + "A" * 32)
    text = "An offline note"
    if args[0] == "--text":
        text, args = args[1], []
    result = glyph(env, "write", "-", *args, stdin=text, check=False)
    assert result.returncode == 1 and words in result.stderr and "Traceback" not in result.stderr
    assert "spooled" not in result.stdout and spool_lines(home) == []
    assert glyph(env, "write", "A valid offline note", "--ttl-days", "2").stdout.startswith("spooled")
    assert [e["payload"]["text"] for e in spool_lines(home)] == ["A valid offline note"]


def test_mcp_save_memory_offline_refuses_what_the_server_would_refuse(tmp_path):
    from ..mcp.test_stdio import run

    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=f"http://127.0.0.1:{free_port()}", GLYPH_KEY="root:" + "A" * 32)

    async def work(s):
        return [
            await s.call_tool("save_memory", {"text": "\u200b\u200d"}),
            await s.call_tool("save_memory", {"text": "tagged", "tags": ["x" * 200]}),
        ]

    for answer in run(env, work):
        assert answer.is_error and "spooled" not in answer.content[0].text
    assert spool_lines(home) == []


def test_an_offline_edit_is_spooled_redacted_and_sent_by_the_next_command(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    env = clean_env(GLYPH_HOME=str(home))
    with glyph_served(env, port=port):
        memory = json.loads(glyph(env, "write", "we ship on Fridays", "--json").stdout)
    result = glyph(
        env, "edit", memory["id"], "we ship on Thursdays; deploy key AKIAABCDEFGHIJKLMNOP", "--tags", "release"
    )
    assert result.stdout.startswith("spooled (server unreachable)")
    assert "secrets were removed before spooling (aws-access-key)" in result.stderr
    [entry] = spool_lines(home)
    assert entry["edit"] == memory["id"] and "payload" not in entry  # an older glyph never sends it as a write
    assert entry["changes"] == {
        "text": "we ship on Thursdays; deploy key [redacted:aws-access-key]",
        "tags": ["release"],
    }
    listed = json.loads(glyph(env, "spool", "--json").stdout)
    assert listed["remaining"] == [{"edit": memory["id"], **entry["changes"]}]
    assert f"edit {memory['id']}: we ship on Thursdays" in glyph(env, "spool").stdout

    proc, _ = start_glyph_serve(env, port=port)
    try:
        result = glyph(env, "recent", "--json")
        [edited] = json.loads(result.stdout)["items"]
        assert edited["id"] == memory["id"] and edited["text"] == entry["changes"]["text"]
        assert edited["tags"] == ["release"] and edited["updated_at"]
        assert "delivered 1 spooled memory" in result.stderr
        assert not (home / "spool.ndjson").exists() and not (home / "spool.rejected.ndjson").exists()
    finally:
        stop(proc)


def test_a_spooled_edit_the_server_refuses_is_set_aside_and_the_rest_go_on(served):
    home, env = served
    a = json.loads(glyph(env, "write", "alpha", "--json").stdout)
    b = json.loads(glyph(env, "write", "beta", "--json").stdout)
    (home / "spool.ndjson").write_text(
        "".join(
            json.dumps({"spooled_at": 1_764_500_000, **entry}) + "\n"
            for entry in (
                {"edit": b["id"], "changes": {"text": "alpha"}},  # 409: a holds that text
                {"edit": "0" * 26, "changes": {"tags": ["x"]}},  # 404: no such memory
                {"edit": a["id"], "changes": {"tags": ["first"]}},
                {"payload": {"text": "gamma"}},
            )
        )
    )
    result = glyph(env, "recent", "--json")
    items = {m["text"]: m for m in json.loads(result.stdout)["items"]}
    assert set(items) == {"alpha", "beta", "gamma"} and items["alpha"]["tags"] == ["first"]
    aside = spool_lines(home, "spool.rejected.ndjson")
    assert [(e["edit"], e["status"]) for e in aside] == [(b["id"], 409), ("0" * 26, 404)]
    assert "(409:" in result.stderr and "(404:" in result.stderr and "delivered 2 spooled memories" in result.stderr
    assert not (home / "spool.ndjson").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["01NOTANID", "text"], "not a memory id"),
        (["ID", "\u200b\u2060"], "text is empty"),
        (["ID", "--tags", ",".join(f"t{i}" for i in range(40))], "at most 16"),
        (["ID", "--tags", "x" * 200], "tag"),
    ],
)
def test_an_offline_edit_the_server_would_refuse_is_refused_at_once_not_spooled(tmp_path, args, words):
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=f"http://127.0.0.1:{free_port()}", GLYPH_KEY="root:" + "A" * 32)
    args = ["01JD0000000000000000000000" if a == "ID" else a for a in args]
    result = glyph(env, "edit", *args, check=False)
    assert result.returncode == 1 and words in result.stderr and "Traceback" not in result.stderr
    assert "not edited" in result.stderr and spool_lines(home) == []


def test_mcp_update_memory_offline_spools_the_edit(tmp_path):
    from ..mcp.test_stdio import run

    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_URL=f"http://127.0.0.1:{free_port()}", GLYPH_KEY="root:" + "A" * 32)
    memory_id = "01JD0000000000000000000000"
    args = {"id": memory_id, "text": "password: hunter2 is old", "tags": ["ops"]}
    saved = run(env, lambda s: s.call_tool("update_memory", args))
    assert saved.structured_content["spooled"] is True and saved.structured_content["redacted"] == ["password"]
    [entry] = spool_lines(home)
    assert entry["edit"] == memory_id and "hunter2" not in json.dumps(entry) and entry["changes"]["tags"] == ["ops"]
