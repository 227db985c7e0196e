"""The fault matrix: the real handler, Lambda's async retries, and every fault OpenSearch (or what stands in
front of it) produces, injected on the wire by a proxy in front of osmem-server.

For each fault the same event is delivered up to three times (Lambda's first try and two retries), each
attempt with its own budget. Then, per event: searchable exactly once (main or failed index, with its
reason), or the whole batch in the dead-letter path (every attempt raised), and replaying it once the
fault is fixed makes every event searchable exactly once. No attempt runs past its budget, and every
attempt prints its summary line, with figures that say what really happened.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from logship.ship.shipper import ShipError
from logship.ship.sink import CredentialsError, OpenSearchRefusedError
from tests.conftest import load_handler, search_all, shipper_env
from tests.doc_pages import section
from tests.integration.fault_proxy import ALWAYS, FaultProxy, Unaccepting
from tests.payloads import encode, load

BUDGET_S = 3.5  # each attempt's time, scaled down from Lambda's minutes; the shipper keeps its 1.5 s margin
SLACK_S = 0.3  # an attempt returns or raises before its deadline plus this
ATTEMPTS = 3  # an asynchronous invocation: the first try and Lambda's two retries
BULK_MAX_DOCS = 8  # so one batch is three bulk requests, and "some requests" faults hit some
DAY = "cwl-2025.11.22"


def matrix_payload(events: int = 24) -> dict[str, Any]:
    """Lines of every kind the samples have (two UTC days, one JSON key with two types), unique ids."""
    names = ["cwl_json_data_number", "cwl_json_data_object", "cwl_node_runtime", "cwl_python_runtime",
             "cwl_json_format", "cwl_platform_extensions"]
    samples = [event for name in names for event in load(name)["logEvents"]]
    payload = load("cwl_python_runtime")
    payload["logGroup"], payload["logStream"] = "/aws/lambda/matrix", "2025/11/22/[$LATEST]5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0"
    payload["logEvents"] = [{"id": f"{37638056 + i:08d}{i:048d}", "timestamp": sample["timestamp"],
                             "message": sample["message"]} for i, sample in enumerate(samples[:events])]
    return payload


EVENTS = len(matrix_payload()["logEvents"])


class VirtualClock:
    """Real time passes as it does; backoff sleeps pass at once but count, so waiting costs the suite nothing."""

    def __init__(self) -> None:
        self.slept = 0.0

    def now(self) -> float:
        return time.monotonic() + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)


class Budget:
    """The Lambda context of one attempt (not our code), on the virtual clock."""

    def __init__(self, clock: VirtualClock, seconds: float = BUDGET_S) -> None:
        self.clock, self.seconds, self.started = clock, seconds, clock.now()

    def elapsed(self) -> float:
        return self.clock.now() - self.started

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.seconds - self.elapsed()) * 1000))


@dataclass
class Attempt:
    summary: dict[str, Any] | None
    error: BaseException | None
    elapsed: float
    slept: float


@dataclass
class Wire:
    """Where the shipper sends, and how that is broken; ``fix()`` is the operator fixing the cause."""

    proxy: FaultProxy
    request: pytest.FixtureRequest
    endpoint: str = ""
    env: dict[str, str] = field(default_factory=dict)
    fixes: list[Callable[[], None]] = field(default_factory=list)

    def fix(self) -> None:
        self.proxy.clear()
        self.endpoint = self.proxy.url
        for fix in self.fixes:
            fix()


def deliver(event: dict[str, Any], wire: Wire, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str], attempts: int = ATTEMPTS) -> list[Attempt]:
    """Lambda's asynchronous invocation: the same event until an attempt succeeds, at most ``attempts``."""
    done: list[Attempt] = []
    for _ in range(attempts):
        for key, value in shipper_env(wire.endpoint or wire.proxy.url, BULK_MAX_DOCS=str(BULK_MAX_DOCS),
                                      **wire.env).items():
            monkeypatch.setenv(key, value)
        app = load_handler("ship_logs")  # a retry may land on a fresh container
        context, slept = Budget(clock), clock.slept
        error: BaseException | None = None
        try:
            app.handler(event, context)
        except Exception as exc:  # what Lambda would record for the retry, then the dead-letter queue
            error = exc
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        summaries = [line for line in lines if line.get("logship") == "ship-logs"]
        done.append(Attempt(summaries[0] if summaries else None, error, context.elapsed(), clock.slept - slept))
        if error is None:
            break
    return done


def _closed_port(wire: Wire) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        wire.endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"


def _unaccepting(wire: Wire) -> None:
    listener = Unaccepting()
    wire.endpoint = listener.url
    wire.request.addfinalizer(lambda: listener.__exit__())


def _set(**faults: Any) -> Callable[[Wire], None]:
    def inject(wire: Wire) -> None:
        for name, value in faults.items():
            setattr(wire.proxy.faults, name, value)
    return inject


def _conflicting_index(wire: Wire) -> None:
    """An index created before the template (or by hand) maps log.level as a number."""
    client = wire.request.getfixturevalue("opensearch")
    client.indices.create(index=DAY, body={"mappings": {"properties": {"log": {"properties": {"level": {
        "type": "long"}}}}}})


def _malformed_secret(wire: Wire) -> None:
    wire.request.getfixturevalue("aws")
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="logship/opensearch", SecretString='{"username": "shipper"}')["ARN"]
    wire.env.update(OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn)
    wire.fixes.append(lambda: secrets.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": "shipper", "password": "s3cr3t"})))


def _poison(wire: Wire) -> None:
    wire.proxy.faults.poison_id = matrix_payload()["logEvents"][5]["id"]


@dataclass
class Result:
    attempts: list[Attempt]
    bulk_requests: int  # sent during the attempts (before any replay)
    docs: list[dict[str, Any]]


Check = Callable[[Result], None]


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[Wire], None]
    outcome: str  # "shipped": an attempt succeeded; "dead-letter": every attempt raised
    check: Check | None = None
    template: bool = True
    payload: Callable[[dict[str, Any]], None] | None = None  # an event of the batch made bad, for this fault


def _honest_first(**figures: int) -> Check:
    """The first attempt's summary shows exactly these figures."""
    def check(result: Result) -> None:
        summary = result.attempts[0].summary
        assert summary is not None
        assert {name: summary[name] for name in figures} == figures, summary.get("reasons")
    return check


def _split_to_fit(result: Result) -> None:
    """The domain's limit is on the bytes on the wire (gzipped, by default): halving still gets under it."""
    [attempt] = result.attempts
    assert attempt.summary is not None
    assert attempt.summary["indexed"] == EVENTS
    assert attempt.summary["reasons"][0].startswith("request too large (413); bulk size lowered to ")


def _written_then_lost(result: Result) -> None:
    """Answers lost after the write: the retry's 409s are this invocation's writes, and it says so."""
    [attempt] = result.attempts
    assert attempt.summary is not None
    assert (attempt.summary["indexed"], attempt.summary["duplicates"]) == (EVENTS, 0)
    assert re.match(r"\d+ written by a request whose answer was lost", attempt.summary["reasons"][0])


def _refused_at_once(error_type: type[BaseException], says: str, requests_per_attempt: int) -> Check:
    """Refused credentials fail at once: no backoff, no pointless retries, the reason named."""
    def check(result: Result) -> None:
        for attempt in result.attempts:
            assert isinstance(attempt.error, error_type)
            assert says in str(attempt.error)
            assert attempt.slept == 0
            assert attempt.summary is not None
            assert attempt.summary["pending"] == EVENTS
            assert says in attempt.summary["reasons"][0]
        assert result.bulk_requests == ATTEMPTS * requests_per_attempt
    return check


def _narrowed(result: Result) -> None:
    """One document makes OpenSearch refuse whole requests: it alone goes to the failed index."""
    failed = [doc for doc in result.docs if "-failed-" in doc["_index"]]
    assert [doc["aws"]["cloudwatch"]["event_id"] for doc in failed] == [matrix_payload()["logEvents"][5]["id"]]
    assert failed[0]["error"]["type"] == "action_request_validation_exception"
    summary = result.attempts[-1].summary
    assert summary is not None
    assert (summary["indexed"], summary["failed"]) == (EVENTS - 1, 1)


def _long_id(payload: dict[str, Any]) -> None:
    payload["logEvents"][5]["id"] = "7" * 600


def _set_aside(result: Result) -> None:
    """The 600-character id never reaches OpenSearch: that event alone is kept, with the reason and position."""
    failed = [doc for doc in result.docs if "-failed-" in doc["_index"]]
    assert [(doc["logship"]["position"], doc["aws"]["cloudwatch"]["event_id"]) for doc in failed] == [(5, "7" * 600)]
    assert "id is 600 bytes" in failed[0]["error"]["message"]
    assert len(result.attempts) == 1


def _transient(result: Result) -> None:
    """A 400 that goes away is retried, not taken for the documents' fault."""
    assert not [doc for doc in result.docs if "-failed-" in doc["_index"]]
    assert len(result.attempts) == 1


def _degraded(result: Result) -> None:
    degraded = [doc for doc in result.docs if doc.get("logship", {}).get("degraded")]
    assert degraded
    summary = result.attempts[-1].summary
    assert summary is not None
    assert summary["degraded"] == len(degraded)
    assert all(doc["_index"].startswith("cwl-2025") for doc in degraded)


FAULTS = [
    Fault("connection refused", _closed_port, "dead-letter"),
    Fault("connect timeout", _unaccepting, "dead-letter"),
    Fault("read timeout, first request", _set(hold_seconds=30, hold_count=1), "shipped"),
    Fault("read timeout, always", _set(hold_seconds=30, hold_count=ALWAYS), "dead-letter"),
    Fault("429 on whole requests, some", _set(request_status=429, request_fault_count=2), "shipped"),
    Fault("429 on whole requests, always", _set(request_status=429, request_fault_count=ALWAYS), "dead-letter"),
    Fault("429 on some items, some requests", _set(item_status=429, item_fault_requests=2), "shipped"),
    Fault("429 on some items, always", _set(item_status=429, item_fault_requests=ALWAYS), "dead-letter"),
    Fault("500 before anything is written", _set(request_status=500, request_fault_count=2), "shipped",
          _honest_first(indexed=EVENTS, duplicates=0)),
    Fault("500 after the data was written", _set(written_status=500, written_count=2), "shipped",
          _written_then_lost),
    Fault("502 after the data was written", _set(written_status=502, written_count=2), "shipped",
          _written_then_lost),
    Fault("504 after the data was written", _set(written_status=504, written_count=2), "shipped",
          _written_then_lost),
    Fault("503", _set(request_status=503, request_fault_count=3), "shipped"),
    Fault("413: requests larger than the domain accepts", _set(max_body_bytes=900), "shipped", _split_to_fit),
    Fault("connection dropped mid-response", _set(drop_count=2), "shipped", _written_then_lost),
    Fault("flapping server", _set(flap_count=4), "shipped", _honest_first(indexed=EVENTS, duplicates=0)),
    Fault("mapping conflict, with the index template", _conflicting_index, "shipped", _degraded),
    Fault("mapping conflict, without the index template", lambda wire: None, "shipped", _degraded, template=False),
    Fault("response near the deadline", _set(hold_seconds=BUDGET_S - 1.5 - 0.3, hold_count=1), "shipped"),
    Fault("trickling response, 4 KiB every 0.5 s", _set(trickle_count=ALWAYS), "dead-letter"),
    Fault("headers, then silence", _set(silence_count=1), "shipped"),
    Fault("accepts, never answers", _set(hang_count=ALWAYS), "dead-letter"),
    Fault("transient 400 on a whole request", _set(request_status=400, request_fault_count=1), "shipped",
          _transient),
    Fault("one document makes OpenSearch refuse the whole request (400)", _poison, "shipped", _narrowed),
    Fault("a 600-character id, which OpenSearch refuses with the whole request", lambda wire: None, "shipped",
          _set_aside, payload=_long_id),
    Fault("401 always", _set(authorization="Basic bm9ib2R5Og=="), "dead-letter",
          _refused_at_once(OpenSearchRefusedError, "refused the bulk request (401", 1)),
    Fault("403 always", _set(request_status=403, request_fault_count=ALWAYS), "dead-letter",
          _refused_at_once(OpenSearchRefusedError, "refused the bulk request (403", 1)),
    Fault("404: the endpoint does not serve the bulk API", _set(request_status=404, request_fault_count=ALWAYS),
          "dead-letter", _refused_at_once(OpenSearchRefusedError, "the endpoint does not serve the bulk API", 1)),
    Fault("malformed secret", _malformed_secret, "dead-letter",
          _refused_at_once(CredentialsError, "secret arn:aws:secretsmanager:", 0)),
]


def assert_exactly_once(client: Any, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event of ``payload`` is searchable exactly once: in its day's index, or kept in the failed
    index with the reason; no document is there twice and none is extra."""
    docs = search_all(client, "cwl-*")
    by_event: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_event.setdefault(doc["aws"]["cloudwatch"]["event_id"], []).append(doc)
    for event in payload["logEvents"]:
        [doc] = by_event.pop(event["id"])
        if "-failed-" in doc["_index"]:
            assert doc["error"]["type"]
            assert doc["error"]["message"]
            assert event["message"].startswith(doc["message"].rstrip("\n")[:40])
        else:
            assert doc.get("event", {}).get("original", doc["message"]) == event["message"].rstrip("\n")
    assert by_event == {}
    return docs


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault_matrix(fault, request, osmem_clone, monkeypatch, capsys):
    client = request.getfixturevalue("opensearch" if fault.template else "bare_opensearch")
    clock = VirtualClock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    payload = matrix_payload()
    if fault.payload:
        fault.payload(payload)
    event = encode(payload)  # one event, delivered again exactly as Lambda and the dead-letter queue keep it
    with FaultProxy(osmem_clone.url) as proxy:
        wire = Wire(proxy, request)
        fault.inject(wire)
        attempts = deliver(event, wire, clock, monkeypatch, capsys)

        raised = [attempt.error is not None for attempt in attempts]
        assert ("dead-letter" if all(raised) else "shipped") == fault.outcome, [a.error for a in attempts]
        for attempt in attempts:
            assert attempt.elapsed <= BUDGET_S + SLACK_S, f"an attempt ran {attempt.elapsed:.2f} s"
            assert attempt.summary is not None, f"no summary line ({attempt.error!r})"
            figures = attempt.summary
            assert figures["events_in"] == EVENTS
            assert figures["indexed"] + figures["duplicates"] + figures["degraded"] + figures["failed"] + \
                figures["pending"] == EVENTS
            assert isinstance(attempt.error, ShipError | OpenSearchRefusedError | CredentialsError | type(None))
            assert (attempt.error is None) == (figures["pending"] == 0)
        bulk_requests = proxy.faults.bulk_requests
        if fault.outcome == "dead-letter":  # the cause is fixed, and the batch replayed from the queue
            wire.fix()
            [replay] = deliver(event, wire, clock, monkeypatch, capsys, attempts=1)
            assert replay.error is None
        docs = assert_exactly_once(client, payload)
        if fault.check:
            fault.check(Result(attempts, bulk_requests, docs))


def test_the_reliability_page_states_the_figures_the_matrix_produces():
    from tests.integration.test_bad_inputs import BAD_INPUTS, ENVELOPES, bad_input_events

    stated = re.findall(r"(faults\s+tried|bad\s+inputs\s+tried|events\s+in|events\s+lost):\s+([\d,]+)",
                        section("reliability.md", "Failures, and what you see"))
    assert {" ".join(key.split()): int(value.replace(",", "")) for key, value in stated} == {
        "faults tried": len(FAULTS), "bad inputs tried": len(BAD_INPUTS) + len(ENVELOPES),
        "events in": len(FAULTS) * EVENTS + bad_input_events(), "events lost": 0}
