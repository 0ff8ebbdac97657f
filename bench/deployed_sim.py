"""The simulated AWS path of bench/deployed_path.py: a CPU share per process (cgroup quota, or
measured and scaled), a TLS proxy that adds network latency in front of moto, and a front that
plays CloudFront + API Gateway + Lambda's INIT, running each request in a fresh process."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FRONT_S = 0.060  # CloudFront + API Gateway, each way together
INIT_S = 0.075  # the Lambda runtime's own INIT before our code
CONNECT_S = 0.030  # a new TLS connection to an AWS endpoint
CALL_S = (0.005, 0.015)  # one AWS call's network time


# --- CPU shares ------------------------------------------------------------------------------


class CpuShare:
    """Run commands with `share` of one core: a cgroup quota, or measured and scaled."""

    def __init__(self, share: float):
        self.share = share
        self.dir = None
        self.mode = "scaled"
        name = f"glyph-bench-{os.getpid()}-{int(share * 100)}"
        quota = max(1000, int(share * 100_000))
        for base, files in (
            ("/sys/fs/cgroup/cpu", {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": str(quota)}),
            ("/sys/fs/cgroup", {"cpu.max": f"{quota} 100000"}),
        ):
            path = Path(base) / name
            try:
                if base == "/sys/fs/cgroup" and not Path(base, "cgroup.controllers").exists():
                    continue
                if base == "/sys/fs/cgroup":
                    Path(base, "cgroup.subtree_control").write_text("+cpu")
                path.mkdir()
                for file, value in files.items():
                    (path / file).write_text(value)
            except OSError:
                shutil.rmtree(path, ignore_errors=True) if path.exists() and not any(path.iterdir()) else None
                try:
                    path.rmdir()
                except OSError:
                    pass
                continue
            self.dir, self.mode = path, ("cgroup v1 quota" if "cpu.cfs_quota_us" in files else "cgroup v2 quota")
            break

    def command(self, cmd: list[str]) -> list[str]:
        if self.dir is None:
            return cmd
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.dir / "cgroup.procs"), *cmd]

    def held_back(self, cpu_s: float) -> float:
        """Extra wall time a process that used cpu_s would have taken at this share (scaled mode)."""
        return 0.0 if self.dir is not None else cpu_s * (1 / self.share - 1)

    def close(self) -> None:
        if self.dir is not None:
            for _ in range(50):
                try:
                    self.dir.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)


# --- network pieces --------------------------------------------------------------------------


class LatencyTlsProxy:
    """TLS in front of a plain TCP upstream, adding latency per new connection and per call."""

    def __init__(self, upstream_port: int, context: ssl.SSLContext):
        self.upstream_port, self.context = upstream_port, context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.calls = 0  # AWS calls seen (data after a pause of > 2 ms on a connection, TLS set up)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            time.sleep(CONNECT_S)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = self.context.wrap_socket(conn, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            conn.close()
            return
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _pump(self, source, sink, delay: bool) -> None:
        last = 0.0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if delay and time.monotonic() - last > 0.002:  # a new call, not the rest of one
                    self.calls += 1
                    time.sleep(random.uniform(*CALL_S))
                last = time.monotonic()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.running = False
        self.listener.close()


class Front(ThreadingHTTPServer):
    """CloudFront + API Gateway + Lambda's INIT: every request runs in a fresh process."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext):
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.command: list[str] = []
        self.env: dict[str, str] = {}
        self.share: CpuShare | None = None
        self.requests = 0
        self.process_s: list[float] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address) -> None:
        """Quiet when the client left before its answer (a hook that gave up); loud otherwise."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLEOFError)):
            super().handle_error(request, client_address)

    def invoke(self, event: dict) -> dict:
        time.sleep(INIT_S)
        started = time.perf_counter()
        proc = subprocess.run(
            self.share.command(self.command),
            input=json.dumps(event),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            return {"statusCode": 502, "headers": {}, "body": proc.stderr[-500:]}
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        time.sleep(self.share.held_back(out["cpu_s"]))
        self.process_s.append(time.perf_counter() - started)
        return out["result"]


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK wait between headers and body

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        from tests.support.lambda_events import make_event

        self.server.requests += 1
        time.sleep(FRONT_S)
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        result = self.server.invoke(make_event("GET", parts.path, parts.query, headers))
        body = result["body"].encode()
        self.send_response(result["statusCode"])
        for name, value in result.get("headers", {}).items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
