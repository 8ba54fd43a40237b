"""ASGI middleware in front of Gradio's own routes: a login throttle and an upload type filter.

Gradio's ``/login`` accepts guesses as fast as a client can send them, and its raw ``/upload``
route stores any file type in the upload folder whichever component (if any) asked for it. Both
are Gradio routes kgedit cannot change, so these guards wrap the whole app (passed to FastAPI
through ``launch(app_kwargs={"middleware": ...})``) and look only at the requests they guard.

The client is identified by the peer address of the connection, not by ``X-Forwarded-For``, which
any client can forge; behind a reverse proxy every user shares the proxy's allowance.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Collection, MutableMapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WINDOW_SECONDS = 60.0
MAX_TRACKED_CLIENTS = 10_000  # a flood from many addresses cannot grow the table without bound


class FailureWindow:
    """Failed logins per client in a sliding window; a client at the limit waits for the oldest."""

    def __init__(
        self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> float:
        """How long ``client`` must wait before its next guess is heard (0 when it may guess now)."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, recent[0] + self.window - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self.clock())
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        recent = self._failures.setdefault(client, deque())
        cutoff = self.clock() - self.window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent


def _client(scope: Scope) -> str:
    peer = scope.get("client")
    return str(peer[0]) if peer else "unknown"


async def _plain(send: Send, status: int, text: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LoginThrottle:
    """Refuse ``POST /login`` with 429 once a client has failed ``limit`` times in a minute."""

    def __init__(self, app: ASGIApp, failures: FailureWindow) -> None:
        self.app = app
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].rstrip("/").endswith("/login")
        ):
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        wait = self.failures.wait_seconds(client)
        if wait > 0:
            seconds = math.ceil(wait)
            log.warning("login from %s refused: too many failed attempts", client)
            await _plain(
                send,
                429,
                f"Too many failed logins from this address; try again in {seconds} s.",
                [(b"retry-after", str(seconds).encode())],
            )
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 200:
            self.failures.succeeded(client)
        elif status and 400 <= status[0] < 500:
            self.failures.failed(client)


class UploadFilter:
    """Let ``POST .../upload`` keep only files whose type kgedit reads; delete anything else.

    Gradio writes the files before it answers, so the filter reads the answer (the list of stored
    paths), deletes every file of the request when one has a refused type, and answers 415.
    """

    def __init__(self, app: ASGIApp, allowed: Collection[str]) -> None:
        self.app = app
        self.allowed = {s.lower() for s in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].rstrip("/").endswith("/upload")
        ):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        stored = _stored_paths(body) if start is not None and start["status"] == 200 else []
        refused = sorted(
            {Path(p).suffix.lower() or "(none)" for p in stored if Path(p).suffix.lower() not in self.allowed}
        )
        if not refused:
            for message in held:
                await send(message)
            return
        for path in stored:
            Path(path).unlink(missing_ok=True)
        log.warning("upload refused: file type %s", ", ".join(refused))
        await _plain(
            send,
            415,
            f"Files of type {', '.join(refused)} are not accepted; use one of {', '.join(sorted(self.allowed))}.",
        )


def _stored_paths(body: bytes) -> list[str]:
    try:
        paths = json.loads(body)
    except ValueError:
        return []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []
