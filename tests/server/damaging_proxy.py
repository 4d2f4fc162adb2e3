"""A loopback HTTP proxy in front of a real server that damages chosen answers: cuts the body short
(the Content-Length still promising all of it) or flips one bit of a chosen byte string in it,
the way a poor plain-HTTP line or a broken middlebox does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
              "proxy-connection", "te", "trailer", "upgrade", "host"}


class DamagingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.plans: dict[str, tuple[str, bytes]] = {}  # path prefix -> ("cut" | "flip", target)
        self.damaged: list[str] = []  # paths whose answer was damaged, in order
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = requests.request(self.command, proxy.upstream + self.path, data=body,
                                          headers=headers, allow_redirects=False, timeout=60)
                content = answer.content
                plan = proxy._take(self.path.split("?")[0])
                if plan and plan[0] == "flip":
                    at = content.find(plan[1])
                    assert at >= 0, f"{plan[1]!r} not in the answer to {self.path}"
                    content = content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1:]
                self.send_response(answer.status_code)
                for k, v in answer.headers.items():
                    if k.lower() not in HOP_BY_HOP | {"date", "server"}:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Connection", "close")
                self.end_headers()
                if plan and plan[0] == "cut":
                    self.wfile.write(content[:len(content) // 2])
                else:
                    self.wfile.write(content)
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_PUT = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def damage(self, path_prefix: str, how: str, target: bytes = b"") -> None:
        """Damage the next answer to a path starting with `path_prefix`."""
        with self._lock:
            self.plans[path_prefix] = (how, target)

    def _take(self, path: str) -> tuple[str, bytes] | None:
        with self._lock:
            for prefix in list(self.plans):
                if path.startswith(prefix):
                    self.damaged.append(path)
                    return self.plans.pop(prefix)
        return None

    def __enter__(self) -> DamagingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
