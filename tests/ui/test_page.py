"""The web page in Debian's headless Chromium against `glyph serve`, at a phone's and a desk's
size: sign in with a real TOTP code, write, search, filter, edit, conflict, delete, page through
250 memories, sign out; hostile memories show as text and run nothing; no sideways scrolling;
axe-core finds nothing serious on any screen. Screenshots go to GLYPH_TEST_ARTIFACTS (or the
test's temporary folder), never into the repository."""

from __future__ import annotations

import json
import os
import shutil
import time

import httpx
import pytest

from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..e2e.test_glyph_serve import glyph
from ..mcp import oauth_flow as f
from ..support.processes import ROOT

pytestmark = pytest.mark.e2e
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
AXE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
HOSTILE = ["<script>window.__xss = 1</script> looks like code", '<img src=x onerror="window.__xss = 2"> an image']


@pytest.fixture
def served(served_home):
    """served_home with 248 memories (every tenth tagged travel) and the HOSTILE ones."""
    url, home, _ = served_home
    key = load_key_file(os.path.join(home, "key.json"))
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 600)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        for i in range(248):
            tags = ["travel"] if i % 10 == 0 else []
            api.post(
                "/v1/memories", json={"text": f"Memory number {i:03d}: notes on the project", "tags": tags}
            ).raise_for_status()
        for text in HOSTILE:
            api.post("/v1/memories", json={"text": text}).raise_for_status()
    return served_home


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()


def check_screen(page, name: str, shots: str) -> None:
    """No sideways scrolling, nothing serious for axe-core, and a screenshot."""
    width = page.viewport_size["width"]
    page.wait_for_load_state("load")  # a click may have started a navigation: check the page it leads to
    # The stylesheet applied (its hash matches the CSP; the browser's default body margin is 8px).
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px", f"{name}: unstyled"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways at {width} px"
    page.evaluate(AXE + "; undefined")  # evaluated through the debugger: the page's CSP allows no such script
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    serious = [
        (v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in found if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{name} at {width} px: {serious}"
    page.screenshot(path=os.path.join(shots, f"ui-{name}-{width}.png"), full_page=True)


def test_the_page_at_a_phones_size(served, browser, tmp_path):
    url, home, env = served
    shots = os.environ.get("GLYPH_TEST_ARTIFACTS") or str(tmp_path)
    totp, used = f.owner_totp(home), set()
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    dialogs, refused = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(url + "/ui")
    check_screen(page, "sign-in", shots)
    page.fill("#code", "000000" if totp.now() != "000000" else "111111")
    page.click("button[type=submit]")
    assert "code" in page.inner_text("#signin-error")  # a wrong code: said so, not signed in
    page.fill("#code", f.fresh_code(totp, used, slow=True))
    page.click("button[type=submit]")
    assert page.inner_text("h1") == "Newest memories"
    check_screen(page, "list", shots)

    # Hostile memories are text: nothing ran, nothing was injected.
    body = page.inner_text("body")
    assert "<script>window.__xss = 1</script>" in body and '<img src=x onerror="window.__xss = 2">' in body
    assert page.evaluate("window.__xss") is None and page.locator("main img").count() == 0 and not dialogs
    assert not refused  # the page's own style and script are all the CSP had to allow

    # Write, with a secret the redactor removes (shown as such).
    page.click("summary:has-text('Write a memory')")
    page.fill("#text", "Deploy key is AKIAIOSFODNN7EXAMPLE, rotate monthly")
    page.fill("#tags", "ops, secrets")
    page.click("form[action='/ui/new'] button")
    assert "removed before saving: aws-access-key" in page.inner_text(".note")
    assert page.locator("ol.memories li").first.locator("mark.redacted").inner_text() == "[redacted:aws-access-key]"

    # Search and filter.
    page.fill("#q", "rotate monthly")
    page.click("form.filters button")
    assert page.locator("ol.memories li").count() == 1 and "Deploy key" in page.inner_text("ol.memories")
    assert page.locator("ol.memories li mark.hit").all_inner_texts() == ["rotate", "monthly"]  # what matched
    check_screen(page, "search", shots)
    page.goto(url + "/ui?tag=travel")
    assert page.locator("ol.memories li").count() == 25 and "#travel" in page.inner_text("ol.memories li >> nth=0")

    # Edit; then a conflict, said in words with a link to the other memory.
    page.goto(url + "/ui?q=" + "number%20007")
    page.click("ol.memories li >> nth=0 >> a.open")
    check_screen(page, "memory", shots)
    page.fill("#text", "Memory number 007: corrected by hand")
    page.click("form[action$='/edit'] button")
    assert page.inner_text(".note").startswith("saved") and "corrected by hand" in page.inner_text(".whole")
    page.fill("#text", "Memory number 008: notes on the project")
    page.click("form[action$='/edit'] button")
    error = page.inner_text("[role=alert]")
    assert "already holds" in error or "another memory" in error.lower(), error
    check_screen(page, "conflict", shots)
    page.click("text=Open that memory")
    assert "Memory number 008" in page.inner_text(".whole")

    # Delete, confirmed on its own page.
    page.click("a.danger")
    check_screen(page, "delete", shots)
    page.click("button.danger")
    assert page.inner_text(".note") == "deleted"

    # Page through everything: 250 seeded + 1 written - 1 deleted, each once, newest first.
    page.goto(url + "/ui")
    seen: list[str] = []
    while True:
        seen += page.eval_on_selector_all("ol.memories a.open", "links => links.map(a => a.getAttribute('href'))")
        older = page.locator("a[rel=next]")
        if older.count() == 0:
            break
        older.click()
    assert len(seen) == 250 and len(set(seen)) == 250
    assert all("t=" not in u for u in seen)  # no token in any URL of the page

    # Sign out ends the session, even for a copy of its cookie.
    cookies = page.context.cookies()
    page.click("button:has-text('Sign out')")
    assert page.inner_text("h1") == "Sign in"
    (session,) = [c for c in cookies if c["name"] == "glyph_ui"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    again = httpx.get(url + "/ui", cookies={"glyph_ui": session["value"]})
    assert "Sign in" in again.text and "Newest memories" not in again.text


def test_the_page_at_a_desks_size_signed_in_by_glyph_ui(served, browser, tmp_path):
    url, _, env = served
    shots = os.environ.get("GLYPH_TEST_ARTIFACTS") or str(tmp_path)
    link = json.loads(glyph(env, "ui", "--json").stdout)["url"]
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(link)
    assert page.inner_text("h1") == "Sign in on this browser?"  # the link asks first (login CSRF)
    check_screen(page, "link", shots)
    with page.expect_navigation():
        page.click("button:has-text('Continue')")
    assert page.url == url + "/ui"  # the one-time token left the address bar
    check_screen(page, "list", shots)
    width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert 500 <= width <= 800  # a comfortable reading width on a desk
    page.click("ol.memories li >> nth=0 >> a.open")
    check_screen(page, "memory", shots)
    assert "UTC" not in page.inner_text("time")  # app.js showed the reader's own time zone
    download = page.context.request.get(url + "/ui/export")  # with the session's cookie
    lines = download.text().splitlines()
    assert download.status == 200 and len(lines) == 250 and "attachment" in download.headers["content-disposition"]
    assert json.loads(lines[0])["text"] == HOSTILE[-1]  # newest first, as /v1/export
    page.goto(link)  # the link works once
    assert page.inner_text("h1") == "Sign in" and "used already" in page.inner_text("body")
    check_screen(page, "sign-in", shots)
    assert httpx.get(url + "/ui/export", follow_redirects=False).status_code == 303  # no session, no download


def test_a_pasted_read_token_gives_a_read_only_page(served):
    url, home, _ = served
    key = load_key_file(os.path.join(home, "key.json"))
    token = mint_window_token(key.kid, key.secret, "r", int(time.time()) + 600)
    with httpx.Client(base_url=url) as browser_like:
        signed = browser_like.post("/ui/sign-in", data={"token": token})
        assert signed.status_code == 303 and "Max-Age=" in signed.headers["set-cookie"]
        max_age = int(signed.headers["set-cookie"].split("Max-Age=")[1].split(";")[0])
        assert max_age <= 600  # never longer than the token that opened it
        page = browser_like.get("/ui").text
        assert "Newest memories" in page and "Write a memory" not in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        refused = browser_like.post("/ui/new", data={"csrf": csrf, "text": "Not allowed"})
        assert refused.status_code == 403 and "scope" in refused.text


def test_reading_and_the_forms_work_with_javascript_off(served, browser):
    url, _, env = served
    link = json.loads(glyph(env, "ui", "--json").stdout)["url"]
    page = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740}).new_page()
    page.goto(link)
    with page.expect_navigation():
        page.click("button:has-text('Continue')")  # a plain form: works without scripts
    page.click("summary:has-text('Write a memory')")
    page.fill("#text", "Written with scripts off")
    page.click("form[action='/ui/new'] button")
    assert page.inner_text(".note") == "saved"
    first = page.locator("ol.memories li").first
    assert "Written with scripts off" in first.inner_text() and "UTC" in first.inner_text()  # no script: UTC, said so
    page.fill("#ns", "work")  # another namespace: empty, then its own memory
    page.click("form.filters button")
    assert page.locator("ol.memories li").count() == 0
    page.click("summary:has-text('Write a memory')")
    page.fill("#text", "Only in work")
    page.click("form[action='/ui/new'] button")
    assert page.locator("ol.memories li").count() == 1 and page.input_value("#ns") == "work"
    page.click("summary:has-text('Write a memory')")  # a look-alike with a new tag: the note says so
    page.fill("#text", "Only\u00a0in  work")
    page.fill("#tags", "later")
    page.click("form[action='/ui/new'] button")
    assert page.inner_text(".note") == "already saved (tags added: later)"
    assert page.locator("ol.memories li").count() == 1 and "#later" in page.inner_text("ol.memories li")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
