"""Whole-request refusals (a 400 not about any one item) and the wall-clock bound of a request, on the wire.

The sink is used exactly as the handler builds it (``Shipper`` from the shipper's config and client), with
documents the payload check would never let through, so the sink's own narrowing is what is tested.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opensearchpy.exceptions import ConnectionTimeout

from logship.cluster.bounded_connection import BoundedHttpConnection
from logship.cluster.client import connect
from logship.core.config import ShipperConfig
from logship.ship.documents import Document
from logship.ship.shipper import Shipper
from tests.conftest import search_all, shipper_env
from tests.integration.fault_proxy import ALWAYS, FaultProxy


class Budget:
    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def remaining_ms(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _shipper(endpoint: str) -> Shipper:
    config = ShipperConfig.from_env(shipper_env(endpoint))
    return Shipper(config, *connect(config))


def _documents(count: int, bad_id_at: int | None = None) -> list[Document]:
    timestamp = 1763805600000
    docs = []
    for i in range(count):
        doc_id = "7" * 600 if i == bad_id_at else f"{timestamp + i}{i:043d}"
        source = {"@timestamp": "2025-11-22T10:00:00.000Z", "message": f"line {i}",
                  "aws": {"cloudwatch": {"log_group": "/aws/lambda/x", "log_stream": "s", "event_id": doc_id}}}
        docs.append(Document("cwl-2025.11.22", doc_id, source, f"line {i}\n", timestamp))
    return docs


def test_one_document_that_makes_opensearch_refuse_the_whole_request_is_narrowed_down(opensearch, osmem_clone):
    """A 600-character _id: osmem-server, like OpenSearch, refuses the whole bulk request with a 400."""
    with FaultProxy(osmem_clone.url) as proxy:
        ledger = _shipper(proxy.url).sink.write(_documents(40, bad_id_at=17), Budget(30))

    assert (ledger.indexed, ledger.failed, ledger.pending) == (39, 1, 0)
    [failed] = search_all(opensearch, "cwl-failed-*")
    assert failed["error"]["type"] == "action_request_validation_exception"
    assert failed["error"]["message"].startswith("Validation Failed: 1: id [7777")
    assert failed["_id"].startswith("sha256-")  # the last resort gets an _id OpenSearch takes
    assert failed["aws"]["cloudwatch"]["event_id"] == "7" * 600
    assert len(search_all(opensearch, "cwl-2025.11.22")) == 39
    # Retried once, then halved: a few requests, not one per document.
    assert proxy.faults.bulk_requests <= 2 + 2 * 6 + 1


def test_a_server_refusing_everything_is_not_taken_for_bad_documents(opensearch, osmem_clone):
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.request_status, proxy.faults.request_fault_count = 400, ALWAYS
        ledger = _shipper(proxy.url).sink.write(_documents(8), Budget(30))

    assert (ledger.indexed, ledger.failed, ledger.pending) == (0, 0, 8)  # Lambda's retry, then the queue
    assert any("no fallback left: injected" in reason for reason in ledger.reasons)
    assert opensearch.indices.get(index="cwl-*") == {}


@pytest.fixture
def slow_server() -> Iterator[tuple[str, list[str]]]:
    """A server answering each connection in turn: a trickle, headers then silence, and nothing at all."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    modes = ["trickle", "silence", "hang"]
    served: list[str] = []

    def answer(connection: socket.socket, mode: str) -> None:
        connection.recv(65536)
        if mode != "hang":
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 1048576\r\n\r\n")
        while mode == "trickle" and not stop.wait(0.5):
            try:
                connection.sendall(b" " * 4096)
            except OSError:  # the client cut the request
                break
        stop.wait(30)
        connection.close()

    def serve() -> None:
        while modes and not stop.is_set():
            connection, _ = listener.accept()
            served.append(modes.pop(0))
            threading.Thread(target=answer, args=(connection, served[-1]), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}", served
    stop.set()
    listener.close()


def test_a_request_ends_at_its_timeout_whatever_the_server_does(slow_server):
    """urllib3's read timeout is per read: each of these would hold a plain connection for minutes."""
    address, served = slow_server
    host, port = address.split(":")
    connection = BoundedHttpConnection(host=host, port=int(port), timeout=30)

    for _ in range(3):
        with pytest.raises(ConnectionTimeout) as error:
            connection.perform_request("POST", "/_bulk", body=b"{}\n", timeout=1.0)
        assert "cut at its deadline" in error.value.args[1] or "timed out" in error.value.args[1]
    assert served == ["trickle", "silence", "hang"]


def test_the_bound_is_the_request_timeout_the_sink_passes(osmem_clone: Any) -> None:
    """A normal request is untouched: the watchdog only cuts what outlives its timeout."""
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[osmem_clone.url], connection_class=BoundedHttpConnection, max_retries=0)
    assert client.info(request_timeout=5)["version"]["distribution"] == "opensearch"


def test_a_tls_request_ends_at_its_timeout_too(tmp_path):
    """Over TLS the socket is a wrapped one: the watchdog must cut that, not the detached TCP socket."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        with context.wrap_socket(listener.accept()[0], server_side=True) as connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
            while not stop.wait(0.5):
                try:
                    connection.sendall(b" " * 4096)
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    connection = BoundedHttpConnection(host="127.0.0.1", port=listener.getsockname()[1], use_ssl=True,
                                       verify_certs=False, ssl_show_warn=False, timeout=30)
    try:
        with pytest.raises(ConnectionTimeout) as error:
            connection.perform_request("POST", "/_bulk", body=b"{}\n", timeout=1.0)
        assert "cut at its deadline" in error.value.args[1]
    finally:
        stop.set()
        listener.close()
