"""Timed requests: over one keep-alive HTTP connection to gunicorn, or in-process.

gunicorn's sync workers answer ``Connection: close``; the client then reconnects *before*
starting the next timer, so a timing never includes a TCP handshake either way. Requests
carry ``X-Forwarded-Proto: https`` as a TLS-terminating proxy would (production settings
redirect plain HTTP).
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import Protocol

HOST = "127.0.0.1"
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    ms: float


@dataclass(frozen=True)
class Auth:
    """A token (API) or a session cookie, ``name=value`` (dashboard pages)."""

    token: str | None = None
    cookie: str | None = None

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Token {self.token}"}
        if self.cookie:
            return {"Cookie": self.cookie}
        return {}


class Transport(Protocol):
    def request(self, method: str, path: str, auth: Auth, body: bytes | None = None) -> Reply: ...

    def close(self) -> None: ...


class HttpTransport:
    """One client connection (use one per thread)."""

    def __init__(self, port: int, timeout: float = 300.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method: str, path: str, auth: Auth, body: bytes | None = None) -> Reply:
        headers = {"Host": HOST, "Connection": "keep-alive", **PROXY_HEADERS, **auth.headers()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self.conn.sock is not None
            if not reused:
                self.conn.connect()  # outside the timer
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                self.conn.close()
                # Only a kept-alive connection the server had closed while idle is worth
                # a second try; a fresh one dropped mid-request is the answer.
                if not reused or attempt == 2:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            if response.will_close:
                self.conn.close()
            return Reply(response.status, data, ms)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class InProcessTransport:
    """Django's test client in this process: the same view code, no server or socket."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST=HOST)

    def request(self, method: str, path: str, auth: Auth, body: bytes | None = None) -> Reply:
        headers = {**PROXY_HEADERS, **auth.headers()}
        cookie = headers.pop("Cookie", None)
        if cookie:
            self.client.cookies.load(cookie)
        else:
            self.client.cookies.clear()
        started = time.perf_counter()
        if method == "GET":
            response = self.client.get(path, headers=headers, secure=True)
        else:
            response = self.client.generic(
                method, path, body or b"", "application/json", headers=headers, secure=True
            )
        content = b"".join(response) if response.streaming else response.content
        ms = (time.perf_counter() - started) * 1000
        return Reply(response.status_code, content, ms)

    def close(self) -> None:
        pass
