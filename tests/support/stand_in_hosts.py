"""A local TLS server standing in for public hosts (chatgpt.com, vscode.dev) in a child process.

The server holds a certificate for those names from a throwaway CA (trustme). The child process
(`glyph serve`) gets three environment variables: SSL_CERT_FILE (it trusts that CA, as it would
trust the public roots), PYTHONPATH naming a folder whose `sitecustomize.py` answers name
lookups of those hosts with this server's loopback address and port, and STAND_IN_HOSTS
(the map). Nothing in the product changes: the server fetches `https://chatgpt.com/oauth/client.json`
by that very URL, verifies the certificate for chatgpt.com, and the trusted-client table decides.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

from .fake_server import LocalServer, QuietHandler, send_body

_SITECUSTOMIZE = """
import os
import socket

_map = dict(p.split("=", 1) for p in os.environ.get("STAND_IN_HOSTS", "").split(",") if p)
_real = socket.getaddrinfo


def getaddrinfo(host, port, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if host in _map:
        address, _, mapped = _map[host].rpartition(":")
        return _real(address, int(mapped), *args, **kwargs)
    return _real(host, port, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
"""


class StandInHosts:
    """Serves JSON documents by (host, path); `down` makes every answer a 404 (an outage as
    chatgpt.com had on 2026-10-22). `fetched` lists the (host, path) of every request."""

    def __init__(self, hosts: tuple[str, ...], folder: Path):
        import trustme

        self.documents: dict[tuple[str, str], dict] = {}
        self.fetched: list[tuple[str, str]] = []
        self.down = False
        ca = trustme.CA()
        self.ca_file = folder / "stand-in-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        self.folder = folder
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*hosts).configure_cert(context)
        stand_in = self

        class Handler(QuietHandler):
            def do_GET(self):
                key = (self.headers.get("Host", "").split(":")[0], self.path)
                stand_in.fetched.append(key)
                doc = None if stand_in.down else stand_in.documents.get(key)
                body = json.dumps(doc if doc is not None else {"error": "not found"}).encode()
                send_body(self, 404 if doc is None else 200, body, "application/json")

        self.hosts = hosts
        self.httpd = LocalServer(Handler, tls=context)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def publish(self, url: str, document: dict) -> None:
        host, _, path = url.removeprefix("https://").partition("/")
        self.documents[(host.split(":")[0], "/" + path)] = document

    def env(self) -> dict[str, str]:
        """For the child process: trust the CA, and find the stand-in hosts here."""
        port = self.port
        return {
            "SSL_CERT_FILE": str(self.ca_file),
            "PYTHONPATH": str(self.folder),
            "STAND_IN_HOSTS": ",".join(f"{h}=127.0.0.1:{port}" for h in self.hosts),
        }

    def close(self) -> None:
        self.httpd.close()
