"""HTML pages: Jinja2 templates with autoescaping (every value shown is untrusted input), sent
with a strict Content-Security-Policy: no script at all, the one stylesheet allowed by its hash,
no framing, no referrer. Jinja2 is imported only by the routes that render a page."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from .core import Response

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def stylesheet() -> tuple[str, str]:
    """The shared stylesheet, inlined, and its CSP source ('sha256-…')."""
    css = (TEMPLATES / "page.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def render(
    template: str, values: dict, status: int = 200, *, form_action: str = "'self'", script: bool = False
) -> Response:
    """The page, with its headers. script: the page loads /ui/static/app.js (CSP 'self'; never inline)."""
    css, css_source = stylesheet()
    html = _environment().get_template(template).render(css=css, **values)
    response = Response.text(html, status, content_type="text/html")
    response.headers.update(
        {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src {css_source}; img-src 'self' data:; form-action {form_action}; "
                + ("script-src 'self'; " if script else "")
                + "frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Frame-Options": "DENY",
            # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the
            # page's own forms, and the sign-in's cross-site check needs the real one. Other sites
            # still get no Referer.
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        }
    )
    return response


def error_page(request, error) -> Response:
    """A page's refusal (its router's `render_error`): the message page, never JSON."""
    return render("ui_message.html", {"title": error.title, "message": error.detail}, error.status, script=True)
