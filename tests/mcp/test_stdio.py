"""`glyph mcp` over stdio, driven by the official SDK's client: on the local SQLite file with
nothing else running (two servers on one file at once), and as a client of `glyph serve`,
spooling what it cannot deliver."""

from __future__ import annotations

import json
import os
import socket

import anyio
import pytest

from ..e2e.test_glyph_serve import glyph
from ..support.mcp_requests import initialize_request
from ..support.processes import GLYPH, clean_env, start_glyph_serve, stop

pytestmark = pytest.mark.e2e


async def _session(env: dict, work):
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=GLYPH, args=["mcp"], env=env)
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            return await work(s)


def run(env: dict, work):
    return anyio.run(_session, env, work)


def test_embedded_on_the_local_sqlite_file(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))

    async def work(s):
        tools = (await s.list_tools()).tools
        saved = await s.call_tool("save_memory", {"text": "Embedded: no server runs", "tags": ["local"]})
        mid = saved.structured_content["memory"]["id"]
        edited = await s.call_tool("update_memory", {"id": mid, "tags": ["local", "edited"]})
        bad = await s.call_tool("save_memory", {"text": "x", "namespace": "Not Valid"})
        unknown = await s.call_tool("get_memory", {"id": "0" * 26})

        async def second_server(other):  # a second process on the same file, at the same time
            return await other.call_tool("recent_memories", {})

        seen = await _session(env, second_server)
        block = await s.read_resource("glyph://context/default")
        fetched = await s.call_tool("fetch", {"id": mid})
        return tools, saved, edited, bad, unknown, seen, block, fetched

    tools, saved, edited, bad, unknown, seen, block, fetched = run(env, work)
    mid = saved.structured_content["memory"]["id"]
    assert fetched.structured_content["url"] == f"http://127.0.0.1:8787/ui/m/{mid}"  # glyph serve's page
    by_name = {t.name: t for t in tools}
    assert by_name["recent_memories"].annotations.read_only_hint is True
    assert by_name["delete_memory"].annotations.destructive_hint is True
    assert all(t.title and t.description and t.output_schema and "  " not in t.description for t in tools)
    assert saved.structured_content["memory"]["source"] == "mcp"
    assert edited.structured_content["memory"]["tags"] == ["local", "edited"]
    assert bad.is_error and unknown.is_error and "404" in unknown.content[0].text
    assert [m["text"] for m in seen.structured_content["items"]] == ["Embedded: no server runs"]
    assert "Embedded: no server runs" in block.contents[0].text
    assert os.path.exists(tmp_path / "home" / "glyph.db")


def test_answers_stay_far_under_what_claude_ai_accepts(tmp_path):
    """50 memories of 32 KiB each: the largest page recent_memories can give, whole answer."""
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))

    async def work(s):
        for i in range(50):
            await s.call_tool("save_memory", {"text": f"{i:02d} " + "long memory text " * 1900})
        page = await s.call_tool("recent_memories", {"limit": 50})
        whole = await s.call_tool("get_memory", {"id": page.structured_content["items"][0]["id"]})
        too_many = await s.call_tool("recent_memories", {"limit": 51})
        return page, whole, too_many

    page, whole, too_many = run(env, work)
    size = len(page.model_dump_json(by_alias=True))
    assert len(page.structured_content["items"]) == 50 and size < 120_000, size
    assert all(m["text_truncated"] for m in page.structured_content["items"])
    assert len(whole.structured_content["text"]) > 30_000  # get_memory gives the whole text
    assert too_many.is_error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_client_of_the_server_spools_what_it_cannot_deliver(tmp_path):
    home = str(tmp_path / "home")
    port = _free_port()
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home), port)
    env = clean_env(GLYPH_HOME=home, GLYPH_URL=url)
    try:
        saved = run(env, lambda s: s.call_tool("save_memory", {"text": "Through the server"}))
        assert saved.structured_content["spooled"] is False
        found = run(env, lambda s: s.call_tool("search", {"query": "server"})).structured_content["results"]
        mid = saved.structured_content["memory"]["id"]
        assert found == [{"id": mid, "title": "Through the server", "url": f"{url}/ui/m/{mid}"}]  # its page there
        recent = json.loads(glyph(env, "recent", "--json").stdout)
        assert [(m["text"], m["source"]) for m in recent["items"]] == [("Through the server", "mcp")]
    finally:
        stop(proc)

    async def offline(s):
        write = await s.call_tool("save_memory", {"text": "Written while the server was down"})
        read = await s.call_tool("recent_memories", {})
        return write, read

    write, read = run(env, offline)
    assert write.structured_content == {
        "memory": None,
        "duplicate": False,
        "extended": False,
        "tags_added": [],
        "session_set": False,
        "redacted": [],
        "similar": [],
        "spooled": True,
    }
    assert read.is_error and "server" in read.content[0].text
    proc, _ = start_glyph_serve(clean_env(GLYPH_HOME=home), port)
    try:
        recent = json.loads(glyph(env, "recent", "--json").stdout)  # delivers the spool first
        assert [m["text"] for m in recent["items"]] == ["Written while the server was down", "Through the server"]
    finally:
        stop(proc)


def test_install_claude_desktop_keeps_other_servers_and_runs_twice(tmp_path):
    config = tmp_path / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir()
    other = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}
    config.write_text(json.dumps({"mcpServers": {"memory": other}, "theme": "dark"}))
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"), GLYPH_CLAUDE_DESKTOP_CONFIG=str(config))
    first = json.loads(glyph(env, "install-claude", "--desktop", "--json").stdout)
    after_first = config.read_text()
    second = json.loads(glyph(env, "install-claude", "--desktop", "--json").stdout)
    data = json.loads(config.read_text())
    assert first["changed"] is True and second["changed"] is False and config.read_text() == after_first
    assert data["theme"] == "dark" and data["mcpServers"]["memory"] == other
    entry = data["mcpServers"]["glyphmemory"]
    assert entry["args"] == ["mcp"] and os.path.basename(entry["command"]) == "glyph"
    assert entry["env"] == {"GLYPH_HOME": str(tmp_path / "home")}  # where its key lives, never the key
    # The entry as written starts a working server.
    tools = run({**env, **entry["env"]}, lambda s: s.list_tools())
    assert len(tools.tools) == 8


def test_save_memory_says_what_a_repeat_changed(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))

    async def work(s):
        first = await s.call_tool("save_memory", {"text": "The user prefers pytest over unittest"})
        again = await s.call_tool(
            "save_memory", {"text": "The user prefers\u00a0pytest  over unittest", "tags": ["py"]}
        )
        return first, again

    first, again = run(env, work)
    got = again.structured_content
    assert got["duplicate"] is True and got["memory"]["id"] == first.structured_content["memory"]["id"]
    assert (got["tags_added"], got["extended"], got["session_set"]) == (["py"], False, False)
    assert got["memory"]["tags"] == ["py"] and got["memory"]["text"] == "The user prefers pytest over unittest"


def test_the_tools_fail_alike_over_http_and_in_process(tmp_path):
    """The same API problem reaches a tool the same way through either implementation of the API
    client: glyph mcp as a client of glyph serve (HTTP), and on the same SQLite file (in-process)."""
    from mcp.shared.exceptions import MCPError

    home = str(tmp_path / "home")
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home), _free_port())
    try:
        a = json.loads(glyph(clean_env(GLYPH_HOME=home, GLYPH_URL=url), "write", "alpha", "--json").stdout)
        b = json.loads(glyph(clean_env(GLYPH_HOME=home, GLYPH_URL=url), "write", "beta", "--json").stdout)

        async def work(s):
            conflict = await s.call_tool("update_memory", {"id": b["id"], "text": "alpha"})
            missing = await s.call_tool("get_memory", {"id": "0" * 26})
            try:
                await s.read_resource("glyph://context/Not%20Valid")
                refused = None
            except MCPError as error:
                refused = (error.error.code, error.error.message, error.error.data)
            return conflict, missing, refused

        answers = [run(env, work) for env in (clean_env(GLYPH_HOME=home, GLYPH_URL=url), clean_env(GLYPH_HOME=home))]
    finally:
        stop(proc)
    (conflict, missing, refused), (conflict_inside, missing_inside, refused_inside) = answers
    assert conflict.is_error and f"409: memory {a['id']} already holds that text" in conflict.content[0].text
    assert conflict.content[0].text == conflict_inside.content[0].text
    assert missing.is_error and missing.content[0].text == missing_inside.content[0].text
    assert "404: " in missing.content[0].text
    assert refused is not None and refused == refused_inside and refused[1].startswith("400: ")


def test_every_unreadable_line_is_answered_and_the_next_request_still_is(tmp_path):
    """JSON-RPC 2.0 §5.1 over the real `glyph mcp` process's pipes: a line that is not JSON is
    -32700 with id null, JSON that is no JSON-RPC message -32600, a request whose arguments hold a
    lone surrogate escape -32602 with its id (each was dropped without an answer: the client
    waited for ever); a log line says so without the line's content, and a good request after
    them is answered."""
    import subprocess
    import threading

    lines = [
        initialize_request(),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "garbage-secret",  # not JSON
        '{"jsonrpc": "2.0", "id": 9, "method": "ping"',  # cut short
        [],  # JSON, no message
        {"jsonrpc": "1.0", "id": 3, "method": "ping"},  # a wrong version
        {"id": 4},  # no method, no result
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_memories",'
        '"arguments":{"query":"\\ud800secret"}}}',
        '{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"save_memory",'
        '"arguments":{"text":"a \\udfff b"}}}',
        {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "recent_memories", "arguments": {}}},
    ]
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen(
        [GLYPH, "mcp"], env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdin.write("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    proc.stdin.flush()  # kept open until the last request's answer: EOF ends the server
    watchdog = threading.Timer(30, proc.kill)  # a line left unanswered fails the test, not hangs it
    watchdog.start()
    answers = []
    while not answers or answers[-1].get("id") != 5:
        line = proc.stdout.readline()
        assert line, "glyph mcp ended before answering"
        answers.append(json.loads(line))
    watchdog.cancel()
    proc.stdin.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    errors = [(a["id"], a["error"]["code"]) for a in answers if "error" in a]
    assert errors == [
        (None, -32700),
        (None, -32700),
        (None, -32600),
        (None, -32600),
        (None, -32600),
        (2, -32602),
        ("s", -32602),
    ]
    assert answers[-1]["result"]["structuredContent"]["items"] == []
    logged = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    refused = [e["code"] for e in logged if e["msg"] == "mcp.stdio.refused"]
    assert refused == [code for _, code in errors]
    assert "secret" not in stderr
