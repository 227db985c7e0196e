"""An opensearch-py connection whose every request ends by its timeout, whatever the server does.

urllib3's read timeout bounds each socket read, not the request: a server trickling 4 KiB every 0.5 s,
or sending headers and then nothing, holds a request as long as it likes, and Lambda kills the
invocation before it can report. Here a request's timeout bounds the whole exchange (connect, send,
wait, read): a watchdog timer shuts the socket down when it passes, which ends a blocked read or write
at once, and the request fails as a :class:`~opensearchpy.exceptions.ConnectionTimeout`. The auth
callable (which may fetch a secret or refresh credentials over the network) gets the same bound.

With ``http_compress`` the body is gzipped (at a fast level: see :data:`GZIP_LEVEL`) before the auth
callable signs it, within the same bound.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from opensearchpy import Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import ConnectionTimeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError

_current = threading.local()  # the watchdog of the request this thread is sending, if any
# zlib's fastest level: `make bench` measures it at a fraction of level 9's CPU (opensearch-py's default)
# for most of its saving on log lines; the CPU is the shipper's, per batch, the bytes saved are the network's.
GZIP_LEVEL = 1


class CredentialsTimeoutError(ConnectTimeoutError):
    """The auth callable (a secret to read, credentials to refresh) outlasted the request's time: nothing sent."""


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        # The base method: on a TLS socket it cuts the descriptor without waiting for a TLS goodbye.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """Shuts down the socket of one request when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        _current.watchdog = None
        with self._lock:
            self._sock = None  # back in the pool: no longer ours to cut

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sock = sock
            if self.expired:  # connecting took the whole budget
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)


def _watch(sock: socket.socket | None) -> None:
    watchdog = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(sock)


class _BoundedAuth:
    """Calls the auth callable in a helper thread and waits only as long as the request may take.

    Given up on, the call still finishes in its thread (a secret read lands in its cache for the next
    request); only its answer is not waited for.
    """

    def __init__(self, auth: Callable[..., Any]) -> None:
        self._auth = auth

    def __call__(self, *args: Any) -> Any:
        watchdog = getattr(_current, "watchdog", None)
        if watchdog is None:
            return self._auth(*args)
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["headers"] = self._auth(*args)
            except BaseException as exc:  # handed to the request's thread as it is
                outcome["error"] = exc

        helper = threading.Thread(target=call, daemon=True)
        helper.start()
        helper.join(max(0.0, watchdog.ends - time.monotonic()))
        if helper.is_alive():
            raise CredentialsTimeoutError("the credentials were not ready in the request's time (Secrets Manager "
                                          "or the credentials endpoint slow or unreachable from the function?)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["headers"]


class _Watched:
    """Hands the socket of each new or reused urllib3 connection to the current request's watchdog."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]  # the TCP socket, watched while TLS is set up
        _watch(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)  # TLS wraps the TCP socket into a new object (the old one is detached): watch that

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # None on a new connection: _new_conn hands it over
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class BoundedHttpConnection(Urllib3HttpConnection):
    """:class:`Urllib3HttpConnection` where ``timeout`` (``request_timeout``) bounds the whole request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        make_pool = self._urllib3_pool_factory

        def watched_pool() -> Any:
            pool = make_pool()
            pool.ConnectionCls = _WatchedHTTPSConnection if pool.scheme == "https" else _WatchedHTTPConnection
            return pool

        self._urllib3_pool_factory = watched_pool
        self._create_urllib3_pool()
        if callable(self.http_auth):
            self.http_auth = _BoundedAuth(self.http_auth)

    def _gzip_compress(self, body: Any) -> bytes:
        # mtime=0: the same body compresses to the same bytes (and the same signature) on every retry.
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)  # bytes: the transport has encoded it

    def perform_request(self, method: str, url: str, params: Any = None, body: Any = None, timeout: Any = None,
                        ignore: Any = (), headers: Any = None) -> Any:
        seconds = float(timeout or self.timeout)
        with _Watchdog(seconds) as watchdog:
            try:
                return super().perform_request(method, url, params, body, timeout=seconds, ignore=ignore,
                                               headers=headers)
            except TransportConnectionError as exc:
                if watchdog.expired and not isinstance(exc, ConnectionTimeout):
                    raise ConnectionTimeout("TIMEOUT", f"no complete answer within {seconds:.1f} s: the request "
                                            "was cut at its deadline", exc.info) from exc
                raise
