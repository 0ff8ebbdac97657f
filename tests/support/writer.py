"""One writer process for the reliability tests: distinct writes through HTTP or the Lambda handler.

    python -m tests.support.writer http URL PREFIX N    # GLYPH_TOKEN holds a write token
    python -m tests.support.writer lambda PREFIX N      # GLYPH_STORE, GLYPH_KEY, AWS endpoint set

Prints one JSON line per write as soon as it is answered, {"text", "status", "id"}, so a writer
whose server is killed midway still leaves a record of exactly what was acknowledged. Status 0
means no answer arrived (connection refused or cut); after five of those in a row it gives up.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A writer process (`python -m tests.support.writer ARGS` from the repository's root), its
    JSON lines on a text pipe."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.writer", *args], cwd=root, env=env, stdout=subprocess.PIPE, text=True
    )


def http_writes(url: str, prefix: str, n: int):
    target = urlsplit(url)
    headers = {"Authorization": "Bearer " + os.environ["GLYPH_TOKEN"], "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    failures = 0
    for i in range(n):
        text = f"{prefix} {i}"
        try:
            conn.request("POST", "/v1/memories", json.dumps({"text": text}), headers)
            response = conn.getresponse()
            body = response.read()
            failures = 0
            yield text, response.status, json.loads(body).get("id")
        except (OSError, http.client.HTTPException):
            conn.close()  # reconnects on the next request
            failures += 1
            yield text, 0, None
            if failures >= 5:
                return
            time.sleep(0.05)


def lambda_writes(prefix: str, n: int):
    from glyphmemory.aws_lambda import LambdaDoor
    from glyphmemory.keys import parse_key
    from glyphmemory.tokens import mint_window_token

    from .lambda_events import make_event

    key = parse_key(os.environ["GLYPH_KEY"])
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 3600)
    headers = {"authorization": "Bearer " + token, "content-type": "application/json"}
    door = LambdaDoor("api")
    for i in range(n):
        text = f"{prefix} {i}"
        result = door.handle(make_event("POST", "/v1/memories", headers=headers, body={"text": text}), None)
        yield text, result["statusCode"], json.loads(result["body"]).get("id")


def main(argv: list[str]) -> None:
    writes = http_writes(argv[1], argv[2], int(argv[3])) if argv[0] == "http" else lambda_writes(argv[1], int(argv[2]))
    for text, status, memory_id in writes:
        print(json.dumps({"text": text, "status": status, "id": memory_id}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
