"""Load: hundreds of payloads from several threads through the real handler into osmem-server, exactly once.

Each thread is one Lambda container (its own cold start of the handler); a tenth of the payloads is
delivered twice, by another thread, as CloudWatch Logs and Lambda's retries may. Run with ``make test-load``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.conftest import LambdaContext, load_handler, shipper_env
from tests.payloads import encode, load

pytestmark = pytest.mark.load

PAYLOADS = 400
EVENTS_PER_PAYLOAD = 50
THREADS = 6
REDELIVERED = PAYLOADS // 10

SAMPLES = [event["message"] for name in ("cwl_python_runtime", "cwl_node_runtime", "cwl_json_format",
                                         "cwl_platform_extensions", "cwl_monitoring")
           for event in load(name)["logEvents"]]


def payload(number: int) -> dict[str, Any]:
    base = load("cwl_python_runtime")
    base["logGroup"] = f"/aws/lambda/load-{number % 7}"
    start = 1763805600000 + number * 1000
    base["logEvents"] = [{"id": f"{start + i:013d}{number:05d}{i:038d}", "timestamp": start + i,
                          "message": SAMPLES[(number + i) % len(SAMPLES)]} for i in range(EVENTS_PER_PAYLOAD)]
    return base


def test_hundreds_of_payloads_from_several_threads_are_indexed_exactly_once(opensearch, osmem_clone, monkeypatch,
                                                                             capsys):
    for key, value in shipper_env(osmem_clone.url).items():
        monkeypatch.setenv(key, value)
    deliveries = [encode(payload(n)) for n in range(PAYLOADS)]
    deliveries += deliveries[:REDELIVERED]  # delivered again, later, by another container
    summaries: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def container(share: list[dict[str, Any]]) -> None:
        app = load_handler("ship_logs")
        for event in share:
            try:
                summary = app.handler(event, LambdaContext(60_000))
            except Exception as exc:  # counted below: a load test must not hide a failure in a thread
                with lock:
                    errors.append(exc)
                continue
            with lock:
                summaries.append(summary)

    threads = [threading.Thread(target=container, args=(deliveries[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    capsys.readouterr()  # the summary lines: checked through the returned summaries

    unique = PAYLOADS * EVENTS_PER_PAYLOAD
    assert errors == []
    assert len(summaries) == len(deliveries)
    assert sum(s["events_in"] for s in summaries) == unique + REDELIVERED * EVENTS_PER_PAYLOAD
    assert sum(s["indexed"] for s in summaries) == unique
    assert sum(s["duplicates"] for s in summaries) == REDELIVERED * EVENTS_PER_PAYLOAD
    assert sum(s["pending"] + s["failed"] + s["degraded"] for s in summaries) == 0
    opensearch.indices.refresh(index="cwl-*")
    assert opensearch.count(index="cwl-*")["count"] == unique
    ids = [event["id"] for n in range(PAYLOADS) for event in payload(n)["logEvents"]]
    for start in range(0, unique, 1000):
        chunk = ids[start:start + 1000]
        assert opensearch.count(index="cwl-*", body={"query": {"ids": {"values": chunk}}})["count"] == len(chunk)
