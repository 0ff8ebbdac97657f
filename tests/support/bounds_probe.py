"""Peak-memory probe for the resource-bound tests: one fresh process answers hostile requests
through the Lambda handler and the codec, and prints how far its peak RSS rose above the RSS it
had just before (KiB). The requests are built first; the peak is reset after that.

    python -m tests.support.bounds_probe     # GLYPH_STORE and GLYPH_KEY set
"""

from __future__ import annotations

import base64
import gc
import json
import os
import time
import zlib


def gzip_bomb(size: int) -> str:
    """base64url of gzip(size zero bytes), built a MiB at a time (never `size` bytes in memory)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    raw = b"".join(comp.compress(chunk) for _ in range(size >> 20)) + comp.flush()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main() -> None:
    from glyphmemory.aws_lambda import LambdaDoor
    from glyphmemory.codec import CodecError, decode
    from glyphmemory.keys import parse_key
    from glyphmemory.tokens import mint_window_token

    from .lambda_events import make_event
    from .rss import peak_kib, reset_peak

    key = parse_key(os.environ["GLYPH_KEY"])
    auth = {"authorization": "Bearer " + mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 600)}
    json_auth = auth | {"content-type": "application/json"}
    big_json = json.dumps({"text": "a" * (10 << 20)}).encode()
    cases = {
        "1 GiB gzip bomb in /w": make_event("GET", "/w", "z=" + gzip_bomb(1 << 30), auth),
        "4 MiB gzip bomb in /w (fits a URL)": make_event("GET", "/w", "z=" + gzip_bomb(4 << 20), auth),
        "10 MiB JSON memory": make_event("POST", "/v1/memories", headers=json_auth, body=big_json),
        "10 MiB import": make_event(
            "POST", "/v1/import", headers=auth | {"content-type": "application/x-ndjson"}, body=big_json
        ),
        "10 MiB JSON memory, base64": make_event("POST", "/v1/memories", headers=json_auth, body=big_json, b64=True),
    }
    bomb = gzip_bomb(1 << 30)
    door = LambdaDoor("api")
    warm = door.handle(make_event("POST", "/v1/memories", headers=json_auth, body={"text": "warm up"}), None)
    assert warm["statusCode"] in (200, 201), warm
    del big_json
    gc.collect()
    before = reset_peak()
    statuses = {name: door.handle(event, None)["statusCode"] for name, event in cases.items()}
    try:
        decode(bomb)
        statuses["1 GiB gzip bomb, codec"] = 200
    except CodecError:
        statuses["1 GiB gzip bomb, codec"] = 400
    print(json.dumps({"statuses": statuses, "peak_growth_kib": peak_kib() - before}))


if __name__ == "__main__":
    main()
