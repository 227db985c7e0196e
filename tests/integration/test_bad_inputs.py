"""Bad inputs through the real handler into osmem-server: every one ends as a clear outcome, nothing lost.

Envelope-level (the delivery cannot be read): the handler raises a PayloadError naming what is wrong and
indexes nothing, so Lambda's retries and then the dead-letter queue keep the whole event. Event-level
(one event of a readable batch): the batch ships every good event, and the bad one is kept in the failed
index with the reason and its position, under an id that makes a retry or redrive idempotent.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from logship.ship.payload import PayloadError
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.payloads import encode, load

POSITION = 3  # the event of the sample batch that is made bad


def _data(raw: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(raw).decode()}}


def _gzipped(text: str | bytes) -> dict[str, Any]:
    return _data(gzip.compress(text if isinstance(text, bytes) else text.encode()))


def _without(key: str) -> dict[str, Any]:
    payload = load("cwl_python_runtime")
    del payload[key]
    return encode(payload)


def _with(**envelope: Any) -> dict[str, Any]:
    return encode({**load("cwl_python_runtime"), **envelope})


# (name, Lambda event, what the error says)
ENVELOPES: list[tuple[str, Any, str]] = [
    ("the Lambda event is a list", [], "expected key 'awslogs', got list"),
    ("the Lambda event is a string", "awslogs", "expected key 'awslogs', got str"),
    ("the Lambda event is null", None, "expected key 'awslogs', got NoneType"),
    ("no awslogs key", {"Records": []}, "expected key 'awslogs', got ['Records']"),
    ("awslogs is a string", {"awslogs": "H4sI"}, "awslogs must be an object with 'data', got \"H4sI\""),
    ("awslogs.data missing", {"awslogs": {}}, "awslogs must be an object with 'data', got {}"),
    ("awslogs.data empty", {"awslogs": {"data": ""}}, "awslogs.data must be a non-empty base64 string, got str"),
    ("awslogs.data a number", {"awslogs": {"data": 7}}, "must be a non-empty base64 string, got int"),
    ("not base64", {"awslogs": {"data": "not base64!!"}}, "awslogs.data is not base64"),
    ("base64 of plain JSON, not gzip", _data(b'{"messageType": "DATA_MESSAGE"}'), "is not gzip (first bytes 7b226d65"),
    ("gzip cut short", _data(gzip.compress(json.dumps(load("cwl_python_runtime")).encode())[:60]),
     "is gzip cut short"),
    ("zlib instead of gzip", _data(zlib.compress(b'{"messageType": "DATA_MESSAGE"}')), "is not gzip (first bytes 789c"),
    ("gzip of text that is not JSON", _gzipped("hello"), "is gzip but not JSON"),
    ("gzip of gzip", _gzipped(gzip.compress(b"{}")), "is gzip but not JSON"),
    ("JSON nested deeper than any parser goes", _gzipped("[" * 100_000 + "]" * 100_000), "is gzip but not JSON"),
    ("gzip of a JSON array", _gzipped("[1, 2]"), "is an array, expected an object"),
    ("gzip of a JSON string", _gzipped('"DATA_MESSAGE"'), "is a string, expected an object"),
    ("messageType missing", _without("messageType"), "messageType None is neither"),
    ("messageType unknown", _with(messageType="DATA"), "messageType 'DATA' is neither"),
    ("logGroup missing", _without("logGroup"), "DATA_MESSAGE lacks logGroup"),
    ("logStream missing", _without("logStream"), "DATA_MESSAGE lacks logStream"),
    ("owner missing", _without("owner"), "DATA_MESSAGE lacks owner"),
    ("logEvents missing", _without("logEvents"), "DATA_MESSAGE lacks logEvents"),
    ("logEvents an object", _with(logEvents={"id": "1"}), "logEvents must be a list, got an object"),
    ("logEvents null", _with(logEvents=None), "logEvents must be a list, got null"),
    ("logGroup a number", _with(logGroup=42), "logGroup must be a string, got a number: 42"),
    ("logStream an array", _with(logStream=["a"]), 'logStream must be a string, got an array: ["a"]'),
    ("owner null", _with(owner=None), "owner must be a string, got null"),
]


@dataclass(frozen=True)
class BadInput:
    """One bad event (or pair) in the 7-event sample batch, and what must become of it."""

    name: str
    change: Callable[[dict[str, Any]], Any]  # edits the decoded payload; may return the raw JSON bytes instead
    outcome: str  # "failed": kept in the failed index; "indexed": searchable as usual; see below for others
    says: str = ""  # in the failed document's error.message


def _event(**fields: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or, with ``...``, remove) fields of the event at POSITION."""
    def change(payload: dict[str, Any]) -> None:
        event = payload["logEvents"][POSITION]
        for key, value in fields.items():
            if value is ...:
                del event[key]
            else:
                event[key] = value
    return change


def _replace(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["logEvents"][POSITION] = value
    return change


def _raw(field: str, raw: bytes) -> Callable[[dict[str, Any]], bytes]:
    """The JSON text of the payload with ``raw`` (bytes that are not UTF-8) inside one string field."""
    def change(payload: dict[str, Any]) -> bytes:
        payload["logEvents"][POSITION][field] = "@@RAW@@"
        return json.dumps(payload).encode().replace(b"@@RAW@@", raw)
    return change


def _same_id_as_previous(payload: dict[str, Any]) -> None:
    payload["logEvents"][POSITION]["id"] = payload["logEvents"][POSITION - 1]["id"]


def _verbatim_twice(payload: dict[str, Any]) -> None:
    payload["logEvents"].insert(POSITION + 1, dict(payload["logEvents"][POSITION]))


def _all_bad(payload: dict[str, Any]) -> None:
    for event in payload["logEvents"]:
        event["timestamp"] = -event["timestamp"]


def _correlation_flood(payload: dict[str, Any]) -> None:
    record = {"message": "flood", **{f"x-correlation-k{i}": f"v{i}" for i in range(1900)}}
    payload["logEvents"][POSITION]["message"] = json.dumps(record)


YEAR_33658 = 1_000_000_000_000_000
BAD_INPUTS = [
    BadInput("timestamp in year 33658", _event(timestamp=YEAR_33658), "failed", "is not the time of a CloudWatch Logs event"),
    BadInput("negative timestamp", _event(timestamp=-1), "failed", "timestamp -1 is not the time of a CloudWatch Logs event"),
    BadInput("timestamp one ms after 2999-12-31", _event(timestamp=32_503_680_000_000), "failed", "is not the time of"),
    BadInput("timestamp one ms before 2000", _event(timestamp=946_684_799_999), "failed", "(epoch milliseconds from 2000"),
    BadInput("timestamp 1e300", _event(timestamp=1e300), "failed", "timestamp 1e+300 is not the time of"),
    BadInput("timestamp NaN", _event(timestamp=float("nan")), "failed", "timestamp NaN is not a finite number"),
    BadInput("timestamp Infinity", _event(timestamp=float("inf")), "failed", "is not a finite number"),
    BadInput("timestamp as a string", _event(timestamp="1763805600160"), "failed", 'timestamp "1763805600160" is not a number'),
    BadInput("timestamp null", _event(timestamp=None), "failed", "timestamp null is not a number"),
    BadInput("timestamp true", _event(timestamp=True), "failed", "timestamp true is not a number"),
    BadInput("timestamp an object", _event(timestamp={"ms": 1}), "failed", "is not a number"),
    BadInput("timestamp missing", _event(timestamp=...), "failed", "timestamp is missing"),
    BadInput("id missing", _event(id=...), "failed", "id is missing"),
    BadInput("id a fraction", _event(id=1.5), "failed", "id is a number, not a string"),
    BadInput("id null", _event(id=None), "failed", "id is null, not a string"),
    BadInput("id an object", _event(id={"n": 1}), "failed", "id is an object, not a string"),
    BadInput("id empty", _event(id=""), "failed", "id is empty"),
    BadInput("id of 600 characters", _event(id="7" * 600), "failed", "id is 600 bytes; OpenSearch refuses an _id over 512"),
    BadInput("id of 300 two-byte characters", _event(id="é" * 300), "failed", "id is 600 bytes"),
    BadInput("id with a lone surrogate", _event(id="abc\ud800"), "failed", "id is not valid UTF-8"),
    BadInput("id with bytes that are not UTF-8", _raw("id", b"17638\xff\xfe"), "failed", "id is not valid UTF-8"),
    BadInput("message missing", _event(message=...), "failed", "message is missing"),
    BadInput("message null", _event(message=None), "failed", "message is null, not a string"),
    BadInput("message a number", _event(message=42), "failed", "message is a number, not a string"),
    BadInput("message an object", _event(message={"level": "INFO"}), "failed", "message is an object, not a string"),
    BadInput("message an array", _event(message=["a", "b"]), "failed", "message is an array, not a string"),
    BadInput("the event is a string", _replace("START RequestId: x"), "failed", "the event is a string, not an object"),
    BadInput("the event is null", _replace(None), "failed", "the event is null, not an object"),
    BadInput("the event is an array", _replace([1, 2]), "failed", "the event is an array, not an object"),
    BadInput("the event is a number", _replace(7), "failed", "the event is a number, not an object"),
    BadInput("the event is an empty object", _replace({}), "failed", "id is missing; timestamp is missing; message is missing"),
    BadInput("two events with one id and different text", _same_id_as_previous, "failed",
             f"id is also the id of logEvents[{POSITION - 1}], whose time or text differs"),
    BadInput("every event of the batch unusable", _all_bad, "all failed", "is outside"),
    BadInput("the same event twice, verbatim", _verbatim_twice, "repeat"),
    BadInput("bytes that are not UTF-8 in a message", _raw("message", b"caf\xe9 \xff end"), "repaired"),
    BadInput("a lone surrogate in a message (a cut emoji)", _event(message="cut \ud83d here"), "indexed"),
    BadInput("NUL and control characters in a message", _event(message="a\x00b\x01c\x1b[31m"), "indexed"),
    BadInput("a 256 KiB message", _event(message="x" * 262_144), "indexed"),
    BadInput("an empty message", _event(message=""), "indexed"),
    BadInput("timestamp a whole float", _event(timestamp=1763805600160.0), "indexed"),
    BadInput("timestamp with a fraction of a millisecond", _event(timestamp=1763805600160.7), "indexed"),
    BadInput("id with quotes, backslashes and spaces", _event(id='a "b" \\ c'), "indexed"),
    BadInput("id of exactly 512 bytes", _event(id="5" * 512), "indexed"),
    BadInput("id a whole number (moto, hand-made payloads): its digits", _event(id=1763805600160), "indexed"),
    BadInput("extra fields on the event (extractedFields)", _event(extractedFields={"a": "b"}), "indexed"),
    BadInput("a line with 1,900 correlation keys", _correlation_flood, "indexed"),
]


def bad_input_events() -> int:
    """How many events the bad inputs deliver, for the README's figures."""
    total = 0
    for bad in BAD_INPUTS:
        payload = load("cwl_python_runtime")
        bad.change(payload)
        total += len(payload["logEvents"])
    return total


def _event_for(payload: dict[str, Any], raw: bytes | None) -> dict[str, Any]:
    return _data(gzip.compress(raw)) if raw is not None else encode(payload)


def _ship(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str,
          event: dict[str, Any]) -> dict[str, Any]:
    for key, value in shipper_env(url).items():
        monkeypatch.setenv(key, value)
    load_handler("ship_logs").handler(event, LambdaContext())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return next(line for line in lines if line.get("logship") == "ship-logs")


@pytest.mark.parametrize(("name", "event", "says"), ENVELOPES, ids=[e[0] for e in ENVELOPES])
def test_an_unreadable_envelope_fails_with_what_is_wrong_and_indexes_nothing(name, event, says, opensearch,
                                                                             osmem_clone, monkeypatch, capsys):
    for key, value in shipper_env(osmem_clone.url).items():
        monkeypatch.setenv(key, value)

    with pytest.raises(PayloadError) as error:  # Lambda retries, then keeps the event in the dead-letter queue
        load_handler("ship_logs").handler(event, LambdaContext())

    assert says in str(error.value), name
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["error"] == f"PayloadError: {error.value}"
    assert opensearch.indices.get(index="cwl-*") == {}


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[bad.name for bad in BAD_INPUTS])
def test_a_bad_event_never_costs_its_batch(bad, opensearch, osmem_clone, monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    original = json.loads(json.dumps(payload))
    raw = bad.change(payload)
    event = _event_for(payload, raw)

    first = _ship(monkeypatch, capsys, osmem_clone.url, event)
    docs = search_all(opensearch, "cwl-*")
    again = _ship(monkeypatch, capsys, osmem_clone.url, event)  # Lambda's retry, or a redrive: idempotent

    assert search_all(opensearch, "cwl-*") == docs
    assert first["events_in"] == again["events_in"] == len(payload["logEvents"])
    assert first["pending"] == again["pending"] == 0
    assert again["indexed"] == 0
    main = [doc for doc in docs if "-failed-" not in doc["_index"]]
    failed = [doc for doc in docs if "-failed-" in doc["_index"]]
    untouched = [e for i, e in enumerate(original["logEvents"]) if i != POSITION]
    if bad.outcome != "all failed":
        assert {e["id"] for e in untouched} <= {doc["_id"] for doc in main}  # the rest of the batch ships
    OUTCOMES[bad.outcome](bad, payload, first, main, failed)


def _kept_in_failed_index(bad: BadInput, payload: dict[str, Any], summary: dict[str, Any],
                          main: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
    assert (summary["indexed"], summary["failed"], len(main)) == (6, 1, 6)
    [doc] = failed
    assert doc["logship"]["position"] == POSITION
    assert doc["error"]["type"] == "invalid_event"
    assert doc["error"]["message"].startswith(f"logEvents[{POSITION}]: ")
    assert bad.says in doc["error"]["message"]
    assert doc["_index"].startswith("cwl-failed-")
    assert doc["aws"]["cloudwatch"]["log_group"] == payload["logGroup"]
    event = payload["logEvents"][POSITION]
    if isinstance(event, dict) and isinstance(event.get("message"), str):
        assert doc["message"] == event["message"]
    else:  # no text of its own: the whole event is kept
        assert doc["message"] == json.dumps(event, ensure_ascii=False)


def _all_kept_in_failed_index(bad: BadInput, payload: dict[str, Any], summary: dict[str, Any],
                              main: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
    assert (summary["indexed"], summary["failed"], len(main)) == (0, 7, 0)
    assert sorted(doc["logship"]["position"] for doc in failed) == list(range(7))
    assert {doc["_index"] for doc in failed} == {"cwl-failed-2025.11.22"}  # the stream's day stands in


def _indexed_as_usual(bad: BadInput, payload: dict[str, Any], summary: dict[str, Any],
                      main: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
    assert (summary["indexed"], summary["failed"], failed) == (7, 0, [])
    event = payload["logEvents"][POSITION]
    doc = next(doc for doc in main if doc["_id"] == str(event["id"]))
    assert doc["@timestamp"].startswith("2025-11-22T10:00:00.160")
    assert doc.get("correlation", {}).keys() <= {f"x-correlation-k{i}" for i in range(16)}


def _one_document_for_a_repeat(bad: BadInput, payload: dict[str, Any], summary: dict[str, Any],
                               main: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
    assert (summary["events_in"], summary["indexed"], summary["duplicates"], len(main), failed) == (8, 7, 1, 7, [])


def _repaired(bad: BadInput, payload: dict[str, Any], summary: dict[str, Any],
              main: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
    assert (summary["indexed"], failed) == (7, [])
    doc = next(doc for doc in main if doc["_id"] == payload["logEvents"][POSITION]["id"])
    assert doc["message"] == "caf\ufffd \ufffd end"
    assert doc["logship"]["invalid_utf8"] is True
    assert [d["_id"] for d in main if d.get("logship", {}).get("invalid_utf8")] == [doc["_id"]]


OUTCOMES: dict[str, Callable[..., None]] = {
    "failed": _kept_in_failed_index, "all failed": _all_kept_in_failed_index, "indexed": _indexed_as_usual,
    "repeat": _one_document_for_a_repeat, "repaired": _repaired,
}


def test_there_are_at_least_forty_distinct_bad_inputs():
    names = [e[0] for e in ENVELOPES] + [bad.name for bad in BAD_INPUTS]
    assert len(names) == len(set(names)) >= 40
