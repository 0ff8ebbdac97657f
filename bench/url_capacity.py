"""URL capacity: how much memory text a write URL carries, per encoding, on our own corpus.

    python bench/url_capacity.py            # prints a markdown section

Baseline: m= (percent-encoded text), measured in the same run. Candidates beside the served
z= (gzip + base64url): raw deflate and zlib framing, to decide whether another format is worth
adding (DESIGN: only if it beats gzip). The host is a typical CloudFront name and the token is a
real write token, so URL lengths are what a chat would fetch.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from glyphmemory import names  # noqa: E402
from glyphmemory.codec import decode, encode  # noqa: E402
from glyphmemory.keys import new_key  # noqa: E402
from glyphmemory.tokens import mint_window_token  # noqa: E402

CORPUS = Path(__file__).with_name("data") / "memories.jsonl"
HOST = "https://d1x2y3z4abcdef.cloudfront.net"
CHAT_URL_CHARS = 250  # the Claude API's web fetch limit


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw_deflate(text: str) -> str:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _b64(c.compress(text.encode()) + c.flush())


ENCODINGS = {
    "m (baseline)": ("m", lambda t: quote(t, safe="")),
    "z gzip (served)": ("z", encode),
    "raw deflate (candidate)": ("d", _raw_deflate),
    "zlib (candidate)": ("d", lambda t: _b64(zlib.compress(t.encode(), 9))),
}


def load_corpus() -> list[str]:
    return [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def write_prefix() -> str:
    key = new_key()
    token = mint_window_token(key.kid, key.secret, "w", int(time.time()) + 12 * 3600)
    return f"{HOST}/w?t={token}&"


def longest_prefix_that_fits(text: str, url_of, limit: int) -> int:
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose URL fits, by bisection
        mid = (lo + hi + 1) // 2
        if len(url_of(text[:mid]).encode()) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def measure() -> dict:
    texts = load_corpus()
    assert all(decode(encode(t)) == t for t in texts)  # the served codec round-trips all of it
    prefix = write_prefix()
    stream = "\n\n".join(texts)  # the whole corpus as one long text, for capacity
    rows = {}
    for label, (param, enc) in ENCODINGS.items():
        url_of = lambda t, p=param, e=enc: f"{prefix}{p}={e(t)}"  # noqa: E731
        per_char = [len(enc(t).encode()) / len(t) for t in texts]
        fitting = {
            limit: [t for t in texts if len(url_of(t).encode()) <= limit]
            for limit in (names.MAX_URL_BYTES, CHAT_URL_CHARS)
        }
        rows[label] = {
            "median_bytes_per_char": statistics.median(per_char),
            "largest_text_8192": max((len(t) for t in fitting[names.MAX_URL_BYTES]), default=0),
            "texts_fitting_8192": len(fitting[names.MAX_URL_BYTES]),
            "largest_text_250": max((len(t) for t in fitting[CHAT_URL_CHARS]), default=0),
            "capacity_8192": longest_prefix_that_fits(stream, url_of, names.MAX_URL_BYTES),
            "capacity_250": longest_prefix_that_fits(stream, url_of, CHAT_URL_CHARS),
        }
    return {
        "texts": len(texts),
        "chars": [min(map(len, texts)), max(map(len, texts))],
        "prefix_chars": len(prefix),
        "rows": rows,
    }


def report(result: dict) -> str:
    base = result["rows"]["m (baseline)"]
    lines = [
        "## URL capacity",
        "",
        f"Corpus: {result['texts']} memories of {result['chars'][0]}–{result['chars'][1]} characters "
        f"(`bench/data/memories.jsonl`). Write-URL prefix with a typical CloudFront host and a real "
        f"token: {result['prefix_chars']} characters. Capacity = the longest prefix of the whole corpus "
        "(as one text) whose URL fits.",
        "",
        "| encoding | median URL bytes / char | largest text in 8,192 B | texts in 8,192 B | capacity 8,192 B (chars) | × m | largest text in 250 | capacity 250 (chars) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in result["rows"].items():
        lines.append(
            f"| {label} | {r['median_bytes_per_char']:.3f} | {r['largest_text_8192']} | {r['texts_fitting_8192']}/{result['texts']} "
            f"| {r['capacity_8192']} | {r['capacity_8192'] / base['capacity_8192']:.2f} | {r['largest_text_250']} | {r['capacity_250']} |"
        )
    z = result["rows"]["z gzip (served)"]
    ratio = z["capacity_8192"] / base["capacity_8192"]
    deflate = result["rows"]["raw deflate (candidate)"]["capacity_8192"] / z["capacity_8192"]
    lines += [
        "",
        f"Goal z ≥ 2.5× m within 8,192 bytes: **{ratio:.2f}×, {'met' if ratio >= 2.5 else 'NOT met'}**. "
        f"Raw deflate would carry {deflate:.3f}× what gzip does (it saves gzip's 18-byte frame); "
        f"{'not worth a second format' if deflate < 1.05 else 'worth considering'}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(report(measure()))
