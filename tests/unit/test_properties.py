"""Property-based tests (hypothesis): no input crashes the decoder or a line parser, and encode -> decode
round-trips. Each property runs 150 generated inputs; a failure prints the smallest one."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logship.core.timefmt import index_day, iso_millis
from logship.ship.documents import DocumentBuilder
from logship.ship.lines import LineParser, normalize_level
from logship.ship.payload import MAX_ID_BYTES, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, PayloadError, parse_batch
from logship.ship.sink import encode as encode_action
from tests.payloads import encode
from tests.unit.test_document_identity import _Budget, _Capture

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
text = st.text(st.characters(codec="utf-8") | st.sampled_from("\t\n\r|[]{}:\"\\ "), max_size=200)


def _data(raw: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(raw).decode()}}


def _read(event: Any) -> Any:
    """parse_batch's answer: a batch, or the PayloadError; anything else escapes and fails the property."""
    try:
        return parse_batch(event)
    except PayloadError as exc:
        error = exc
    assert str(error)  # it says what was wrong
    return error


# -- the decoder --------------------------------------------------------------------------------------

@PROPERTY
@given(json_values)
def test_any_lambda_event_is_read_or_refused_with_a_payload_error(event):
    _read(event)


@PROPERTY
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()))
def test_any_data_string_is_read_or_refused(data):
    _read({"awslogs": {"data": data}})


@PROPERTY
@given(st.binary(max_size=500))
def test_any_gzipped_bytes_are_read_or_refused(raw):
    _read(_data(gzip.compress(raw)))


envelopes = st.fixed_dictionaries(
    {"messageType": st.sampled_from(["DATA_MESSAGE", "CONTROL_MESSAGE"]) | json_values},
    optional={"owner": st.text(max_size=12) | json_values, "logGroup": st.text(max_size=30) | json_values,
              "logStream": st.text(max_size=40) | json_values,
              "logEvents": st.lists(json_values | st.fixed_dictionaries(
                  {}, optional={"id": st.text(max_size=20) | json_values, "timestamp": st.integers() | json_values,
                                "message": text | json_values}), max_size=8) | json_values})


@PROPERTY
@given(envelopes)
def test_any_envelope_is_read_or_refused_and_every_event_has_an_outcome(decoded):
    batch = _read(encode(decoded))
    if isinstance(batch, PayloadError) or batch.is_control:
        return
    assert batch.size == len(decoded["logEvents"])
    positions = sorted(rejected.position for rejected in batch.rejected)
    assert len(set(positions)) == len(positions)
    builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1")
    documents = builder.build(batch) + builder.rejected(batch)
    assert len({(doc.index, doc.id) for doc in documents}) == len(documents)  # no two share an _id
    for doc in documents:
        assert 0 < len(doc.id.encode()) <= MAX_ID_BYTES
        try:
            encode_action(doc)
        except (ValueError, RecursionError):  # NaN in a JSON line: the sink degrades it (UNENCODABLE)
            assert doc.source.get("json") is not None


def _unique_ids(events: list[dict[str, Any]]) -> bool:
    return len({event["id"] for event in events}) == len(events)


valid_ids = (st.text(st.characters(codec="utf-8"), min_size=1, max_size=128)
             | st.from_regex(r"\A[0-9]{56}\Z"))
valid_events = st.lists(st.fixed_dictionaries({
    "id": valid_ids, "timestamp": st.integers(MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS),
    "message": st.text(st.characters(codec="utf-8"), max_size=300) | st.text(max_size=50)}),
    max_size=12).filter(_unique_ids)


@PROPERTY
@given(valid_events, st.text(max_size=30), st.text(max_size=60))
def test_encode_then_decode_round_trips(events, group, stream):
    decoded = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
               "subscriptionFilters": ["logship"], "logEvents": events}

    batch = parse_batch(encode(decoded))

    assert (batch.log_group, batch.log_stream, batch.owner) == (group, stream, "123456789012")
    assert [(e.id, e.timestamp, e.message) for e in batch.events] == [
        (e["id"], e["timestamp"], e["message"]) for e in events]
    assert (batch.rejected, batch.repeats) == ((), 0)


@PROPERTY
@given(st.integers(MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS))
def test_timestamps_format_as_datetime_does(epoch_ms):
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    assert iso_millis(epoch_ms)[:19] == moment.strftime("%Y-%m-%dT%H:%M:%S")
    assert index_day(epoch_ms) == moment.strftime("%Y.%m.%d")


# -- the line parsers ----------------------------------------------------------------------------------

parser = LineParser(["tenant"])
levels = st.sampled_from(["INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL", "WARNING", "CRITICAL", "X"])
request_ids = st.uuids().map(str) | st.from_regex(r"\A[!-~]{1,40}\Z")  # no whitespace: the formats' fields
iso_times = st.from_regex(r"\A[0-9T:.Z-]{1,30}\Z")
numbers = st.floats(allow_nan=True, allow_infinity=True).map(str) | st.integers().map(str) | text


def _pairs(draw: Any) -> str:
    keys = st.sampled_from(["Duration", "Billed Duration", "Memory Size", "Max Memory Used", "Init Duration",
                            "Status", "Error Type", "Restore Duration"]) | text
    return "".join(f"{draw(keys)}: {draw(numbers)} {draw(st.sampled_from(['ms', 'MB', '']))}\t"
                   for _ in range(draw(st.integers(0, 6))))


@st.composite
def platform_lines(draw: Any) -> str:
    kind = draw(st.sampled_from(["START", "END", "REPORT", "INIT_START", "XRAY", "EXTENSION", "TELEMETRY",
                                 "RUNTIME_EXIT", "TIMEOUT", "INIT_REPORT"]))
    rid = draw(request_ids)
    return {
        "START": f"START RequestId: {rid} Version: {draw(text)}",
        "END": f"END RequestId: {rid}",
        "REPORT": f"REPORT RequestId: {rid}\t{_pairs(draw)}\nXRAY TraceId: {draw(text)}\tSampled: true",
        "INIT_START": f"INIT_START Runtime Version: {draw(text)}\tRuntime Version ARN: {draw(text)}",
        "XRAY": f"XRAY TraceId: {draw(text)}",
        "EXTENSION": f"EXTENSION\tName: {draw(text)}\tState: {draw(text)}",
        "TELEMETRY": f"TELEMETRY\tName: {draw(text)}",
        "RUNTIME_EXIT": f"RequestId: {rid} Error: Runtime exited with error: {draw(text)}\nRuntime.ExitError",
        "TIMEOUT": f"{draw(text)} {rid} Task timed out after {draw(numbers)} seconds",
        "INIT_REPORT": f"INIT_REPORT Init Duration: {draw(numbers)} ms\tPhase: init\tStatus: {draw(text)}",
    }[kind] + draw(st.sampled_from(["", "\n", "\r\n"]))


@st.composite
def runtime_lines(draw: Any) -> str:
    body = draw(text | st.builds(lambda v: json.dumps(v), json_values)
                | st.builds(lambda t, m: f"{t}: {m}\nTraceback (most recent call last):\n  x\n{t}: {m}",
                            st.from_regex(r"\A[A-Za-z_]\w*Error\Z"), text)
                | st.builds(lambda m: f"MONITORING|{m}", text)
                | st.builds(lambda v: "Invoke Error \t" + json.dumps(v), json_values))
    if draw(st.booleans()):
        return f"[{draw(levels | st.just('info'))}]\t{draw(iso_times)}\t{draw(request_ids)}\t{body}\n"
    return f"2025-11-22T10:00:00.{draw(st.integers(0, 999)):03d}Z\t{draw(request_ids)}\t{draw(levels)}\t{body}\n"


well_known = st.dictionaries(
    st.sampled_from(["level", "levelname", "severity", "message", "msg", "requestId", "request_id", "service",
                     "cold_start", "xray_trace_id", "errorType", "errorMessage", "stackTrace", "stack", "exception",
                     "exception_name", "x-correlation-id", "x-correlation-a", "tenant", "type", "record"]),
    json_values, max_size=8)


@st.composite
def json_lines(draw: Any) -> str:
    value = draw(well_known | st.dictionaries(st.text(max_size=10), json_values, max_size=5))
    if draw(st.booleans()):
        value = {"type": "platform." + draw(st.sampled_from(["report", "start", "runtimeDone", "initStart"]) | text),
                 "record": draw(json_values | st.fixed_dictionaries({}, optional={
                     "requestId": json_values, "status": json_values, "errorType": json_values,
                     "metrics": st.dictionaries(st.sampled_from(["durationMs", "billedDurationMs", "memorySizeMB",
                                                                 "maxMemoryUsedMB", "initDurationMs"]), json_values),
                     "tracing": json_values, "version": json_values, "runtimeVersion": json_values}))}
    return json.dumps(value)


monitoring_lines = st.builds(lambda parts: "MONITORING|" + "|".join(parts), st.lists(numbers | text, max_size=6))


def _searched_as(value: dict[str, Any]) -> dict[str, Any]:
    """A record whose message is itself a JSON object is searched as that object (README, "Fields")."""
    message = value.get("message")
    try:
        inner = json.loads(message) if isinstance(message, str) and message[:1] == "{" and message[-1:] == "}" else None
    except ValueError:
        inner = None
    return {k: v for k, v in value.items() if k != "message"} | inner if isinstance(inner, dict) else value


def _parses(line: str) -> dict[str, Any]:
    message, fields = parser.parse(line)
    assert isinstance(message, str)
    assert isinstance(fields, dict)
    return fields


@PROPERTY
@given(text | st.text())
def test_any_text_parses(line):
    _parses(line)


@PROPERTY
@given(platform_lines())
def test_any_platform_line_parses(line):
    _parses(line)


@PROPERTY
@given(runtime_lines())
def test_any_python_or_node_runtime_line_parses_with_its_level_and_request_id(line):
    fields = _parses(line)
    assert fields["event"]["original"] == line.rstrip("\r\n")


@PROPERTY
@given(json_lines())
@example('{"level": NaN, "x": -Infinity, "y": 1e999}')
def test_any_json_line_parses_and_keeps_its_object(line):
    fields = _parses(line)
    value = json.loads(line)
    if not (isinstance(value.get("type"), str) and value["type"].startswith("platform.") and "record" in value):
        # As JSON text: NaN equals no NaN, and the parser's NaN is its own (a NonFinite, refused by orjson).
        assert json.dumps(fields["json"]) == json.dumps(_searched_as(value))
    assert len(fields.get("correlation", {})) <= 16


@PROPERTY
@given(monitoring_lines)
def test_any_monitoring_line_parses(line):
    fields = _parses(line)
    if "metric" in fields:
        assert isinstance(fields["metric"]["value"], float)


@PROPERTY
@given(json_values)
def test_any_level_value_normalizes_or_is_unknown(value):
    assert normalize_level(value) in (None, "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")



@PROPERTY
@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=60), max_docs=st.integers(1, 25),
       max_bytes=st.integers(1024, 8000), page=st.integers(1, 30))
def test_requests_hold_every_document_once_in_order_within_the_bounds(sizes, max_docs, max_bytes, page):
    """Pages are cut where a request fills: no request over max_docs, none over max_bytes unless one document
    alone is larger, every document sent once, in the batch's order."""
    from logship.ship import documents
    from logship.ship.sink import BulkSink

    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/p",
               "logStream": "2025/11/22/[$LATEST]abc", "subscriptionFilters": ["f"],
               "logEvents": [{"id": f"{i:056d}", "timestamp": 1_763_805_600_000 + i, "message": "x" * size}
                             for i, size in enumerate(sizes)]}
    cluster = _Capture()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(documents, "PAGE_DOCUMENTS", page)
        pages = DocumentBuilder(region="eu-west-1").pages(parse_batch(encode(payload)))
        ledger = BulkSink(cluster, max_docs=max_docs, max_bytes=max_bytes).write(pages, _Budget())

    assert ledger.indexed == ledger.events_in == len(sizes)
    sent = []
    for body in cluster.bodies:
        lines = body.splitlines()
        assert len(lines) // 2 <= max_docs
        assert len(body) <= max_bytes or len(lines) == 2
        sent += [json.loads(action)["create"]["_id"] for action in lines[::2]]
    assert sent == [event["id"] for event in payload["logEvents"]]
