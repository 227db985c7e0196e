"""The pre-subscription backfill against moto (CloudWatch Logs, Lambda) and osmem-server: no line lost.

A subscription filter does not backfill. These tests log to a group, subscribe it (moto's
put_subscription_filter, so the filter's creationTime is real), log again, and check what the backfill ships.

moto's event ids are one process-wide counter ("0", "1", ...): unique across streams and groups within a test
run, like AWS's 56-digit ids, only shorter. The tests assert that uniqueness before relying on it.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from logship.core.config import BackfillConfig
from logship.subscribe.backfill import BackfillResult, backfill_group
from logship.subscribe.delivery import LambdaDeliverer
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.conftest import ACCOUNT, REGION, SHIPPER_ARN
from tests.payloads import load

GROUP = "/aws/lambda/orders-api"
STREAM_A = load("cwl_python_runtime")["logStream"]
STREAM_B = load("cwl_node_runtime")["logStream"]
HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def a_moment() -> None:
    """Let the clock move past the millisecond just used, so ingestion and filter creation times differ.

    Setup, not an assertion: moto stamps both with the real clock.
    """
    time.sleep(0.003)


def moto_call(client: Any) -> Callable[..., dict[str, Any]]:
    """``call(operation, **params)`` over a boto3 client: what the subscription functions' paced call does."""
    return lambda operation, **params: getattr(client, xform_name(operation))(**params)


def decoded(event: dict[str, Any]) -> dict[str, Any]:
    """A subscription event decoded with the standard library alone (not with logship's decoder)."""
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


class Collector:
    """A destination that accepts every payload and keeps it decoded."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.payloads.append(decoded(event))

    def ids(self) -> list[str]:
        return [str(item["id"]) for payload in self.payloads for item in payload["logEvents"]]


class InProcessShipper:
    """The real ship-logs handler (one cold start), run on each event as Lambda runs an async invoke."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
        for key, value in shipper_env(endpoint).items():
            monkeypatch.setenv(key, value)
        self._app = load_handler("ship_logs")
        self.summaries: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        out = io.StringIO()
        with redirect_stdout(out):
            self._app.handler(json.loads(json.dumps(event)), LambdaContext())
        lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
        self.summaries += [line for line in lines if line.get("logship") == "ship-logs"]

    def total(self, figure: str) -> int:
        return sum(summary[figure] for summary in self.summaries)


def filter_delivers_to(monkeypatch: pytest.MonkeyPatch, function_arn: str, run: Callable[[dict[str, Any]], None]) -> None:
    """moto hands a subscribed group's new events to the destination function; run ``run`` on them there.

    moto builds the subscription payload itself (its own code, its own ids) and would start the function in
    Docker; here the function's code runs in-process instead, as Lambda would run it.
    """
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.invoke

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        if self.function_arn != function_arn:
            return original(self, body, request_headers, response_headers)
        run(json.loads(body))
        return b""

    monkeypatch.setattr(LambdaFunction, "invoke", invoke)


def log(aws: Any, stream: str, messages: list[str], stamps: list[int], group: str = GROUP) -> None:
    """PutLogEvents, creating the stream first if needed."""
    existing = aws.logs.describe_log_streams(logGroupName=group)["logStreams"]
    if stream not in {s["logStreamName"] for s in existing}:
        aws.logs.create_log_stream(logGroupName=group, logStreamName=stream)
    for start in range(0, len(messages), 10_000):  # PutLogEvents takes at most 10,000 events
        aws.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": stamp, "message": message}
            for stamp, message in zip(stamps[start:start + 10_000], messages[start:start + 10_000], strict=True)])


def log_fixture(aws: Any, name: str, stream: str, base_ms: int) -> list[str]:
    """A tests/events fixture's lines, restamped from ``base_ms`` keeping their spacing; returns the lines."""
    events = load(name)["logEvents"]
    first = events[0]["timestamp"]
    messages = [event["message"] for event in events]
    log(aws, stream, messages, [base_ms + event["timestamp"] - first for event in events])
    return messages


def group_events(aws: Any, group: str = GROUP) -> list[dict[str, Any]]:
    """Every event moto holds for ``group`` (FilterLogEvents over all time, every page)."""
    pages = aws.logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return [event for page in pages for event in page["events"]]


def backfill(aws: Any, deliver: Callable[[dict[str, Any]], None], *, call: Callable[..., dict[str, Any]] | None = None,
             group: str = GROUP, **settings: Any) -> BackfillResult:
    return backfill_group(group, destination_arn=SHIPPER_ARN, call=call or moto_call(aws.logs), deliver=deliver,
                          config=BackfillConfig(**settings))


@pytest.fixture
def quiet_shipper(monkeypatch: pytest.MonkeyPatch) -> Collector:
    """What the filter itself delivers after subscribing, when a test only needs it kept out of Docker."""
    collector = Collector()
    filter_delivers_to(monkeypatch, SHIPPER_ARN, collector)
    return collector


def test_a_groups_lines_from_before_its_subscription_are_searchable_exactly_once(
        aws, opensearch, osmem_clone, monkeypatch):
    shipper = InProcessShipper(monkeypatch, osmem_clone.url)
    filter_delivers_to(monkeypatch, SHIPPER_ARN, shipper)
    aws.groups(GROUP)
    before = log_fixture(aws, "cwl_python_runtime", STREAM_A, now_ms() - 60_000)
    before += log_fixture(aws, "cwl_node_runtime", STREAM_B, now_ms() - 30_000)
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    a_moment()
    after = log_fixture(aws, "cwl_monitoring", STREAM_A, now_ms())  # delivered by the filter, through the shipper

    result = backfill(aws, shipper)

    every_event = group_events(aws)
    assert len({event["eventId"] for event in every_event}) == len(every_event) == len(before) + len(after)
    # The minute after the filter's creation overlaps (BackfillConfig.overlap_ms): those lines are shipped by
    # the filter and by the backfill, and indexed once.
    assert (result.status, result.shipped, result.after_filter) == ("done", len(before) + len(after), 0)
    docs = search_all(opensearch)
    assert sorted(doc["_id"] for doc in docs) == sorted(event["eventId"] for event in every_event)
    by_id = {doc["_id"]: doc for doc in docs}
    for event in every_event:
        doc = by_id[event["eventId"]]
        assert doc.get("event", {}).get("original", doc["message"]) == event["message"].rstrip("\n")
        assert doc["aws"]["cloudwatch"]["log_stream"] == event["logStreamName"]
        assert doc["cloud"]["account"]["id"] == ACCOUNT
    assert shipper.total("failed") == shipper.total("pending") == 0

    first_run = len(shipper.summaries)
    again = backfill(aws, shipper)

    rerun = shipper.summaries[first_run:]
    assert (again.status, again.shipped) == ("done", len(every_event))
    assert sum(summary["duplicates"] for summary in rerun) == len(every_event)
    assert sum(summary["indexed"] for summary in rerun) == 0
    assert len(search_all(opensearch)) == len(every_event)


def test_each_payload_is_one_streams_lines_in_the_subscriptions_shape(aws, quiet_shipper):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["a1", "a2"], [now_ms() - 2000, now_ms() - 1000])
    log(aws, STREAM_B, ["b1"], [now_ms() - 1500])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN, name="logship-prod")
    collector = Collector()

    result = backfill(aws, collector)

    by_stream = {payload["logStream"]: payload for payload in collector.payloads}
    assert len(collector.payloads) == result.payloads == 2
    assert [item["message"] for item in by_stream[STREAM_A]["logEvents"]] == ["a1", "a2"]
    assert [item["message"] for item in by_stream[STREAM_B]["logEvents"]] == ["b1"]
    for payload in collector.payloads:
        assert payload["messageType"] == "DATA_MESSAGE"
        assert payload["owner"] == ACCOUNT
        assert payload["logGroup"] == GROUP
        assert payload["subscriptionFilters"] == ["logship-prod"]
        assert all(set(item) == {"id", "timestamp", "message"} for item in payload["logEvents"])


@pytest.mark.parametrize(("stream_count", "lines"), [
    (6, 30),  # each stream fills several payloads of its own
    (8, 6),  # no stream fills one, but together they hold more than a few payloads' worth: sent early
])
def test_many_streams_and_small_batches_deliver_every_line_once_each_payload_one_stream(stream_count, lines, aws):
    aws.groups(GROUP)
    streams = [f"2025/11/22/[$LATEST]{i:032x}" for i in range(stream_count)]
    for number, stream in enumerate(streams):
        log(aws, stream, [f"{stream} line {i}" for i in range(lines)],
            [now_ms() - 1000 + number * lines + i for i in range(lines)])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill(aws, collector, batch_bytes=1_000)  # about 7 lines a payload

    assert (result.status, result.shipped) == ("done", stream_count * lines)
    assert result.payloads == len(collector.payloads) > stream_count
    for payload in collector.payloads:
        assert all(item["message"].startswith(payload["logStream"]) for item in payload["logEvents"])
    for stream in streams:
        sent = [item["message"] for payload in collector.payloads if payload["logStream"] == stream
                for item in payload["logEvents"]]
        assert sent == [f"{stream} line {i}" for i in range(lines)]


def test_a_group_with_only_lines_after_its_subscription_ships_nothing(aws, quiet_shipper):
    aws.groups(GROUP)
    aws.subscribe(GROUP, SHIPPER_ARN)
    a_moment()
    log(aws, STREAM_A, ["after 1", "after 2"], [now_ms() - 1, now_ms()])
    collector = Collector()

    result = backfill(aws, collector, overlap_ms=0)  # the boundary itself

    assert len(quiet_shipper.ids()) == 2  # the filter's own delivery
    assert (result.status, result.read, result.after_filter, result.shipped) == ("done", 2, 2, 0)
    assert collector.payloads == []


def test_lines_ingested_in_the_minute_after_the_filter_are_shipped_too_and_not_later_ones(aws, quiet_shipper):
    aws.groups(GROUP)
    aws.subscribe(GROUP, SHIPPER_ARN)
    a_moment()
    log(aws, STREAM_A, ["just after"], [now_ms()])
    collector = Collector()

    within = backfill(aws, collector)  # the default overlap: a minute
    beyond = backfill(aws, Collector(), overlap_ms=0)

    assert (within.shipped, within.after_filter) == (1, 0)
    assert [event["message"] for event in collector.payloads[0]["logEvents"]] == ["just after"]
    assert (beyond.shipped, beyond.after_filter) == (0, 1)


def test_an_empty_group_ships_nothing(aws):
    aws.groups(GROUP)
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill(aws, collector)

    assert (result.status, result.read, result.shipped, result.payloads) == ("done", 0, 0, 0)
    assert collector.payloads == []


def test_hours_zero_turns_backfill_off_without_a_single_call(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before"], [now_ms()])
    aws.subscribe(GROUP, SHIPPER_ARN)
    calls: list[str] = []
    collector = Collector()

    result = backfill(aws, collector, call=lambda op, **params: calls.append(op) or moto_call(aws.logs)(op, **params),
                      hours=0)

    assert result.status == "off"
    assert calls == []
    assert collector.payloads == []


def test_a_young_group_is_read_from_its_beginning_whatever_its_lines_timestamps(aws):
    """Ingested since the group's creation, though stamped 3 days back: a line the filter would have sent."""
    aws.groups(GROUP)
    log(aws, STREAM_A, ["stamped 3 days ago", "stamped now"], [now_ms() - 72 * HOUR_MS, now_ms()])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill(aws, collector, hours=1)

    assert [item["message"] for item in collector.payloads[0]["logEvents"]] == ["stamped 3 days ago", "stamped now"]
    assert result.window["from"] == "group start"


def test_an_older_group_is_read_back_as_far_as_the_lookback(aws):
    """The sweep passes the listing's creationTime: this group has existed for days."""
    aws.groups(GROUP)
    log(aws, STREAM_A, ["two hours ago", "ten minutes ago"], [now_ms() - 2 * HOUR_MS, now_ms() - 600_000])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill_group(GROUP, destination_arn=SHIPPER_ARN, call=moto_call(aws.logs), deliver=collector,
                            config=BackfillConfig(hours=1), group_created_ms=now_ms() - 72 * HOUR_MS)

    assert [item["message"] for item in collector.payloads[0]["logEvents"]] == ["ten minutes ago"]
    assert (result.status, result.read, result.shipped) == ("done", 1, 1)


def test_the_cap_keeps_the_oldest_lines_and_says_how_many_were_left_out(aws):
    aws.groups(GROUP)
    stamps = [now_ms() - 60_000 + i for i in range(25)]
    log(aws, STREAM_A, [f"line {i}" for i in range(25)], stamps)
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill(aws, collector, max_events=10)

    assert [item["message"] for item in collector.payloads[0]["logEvents"]] == [f"line {i}" for i in range(10)]
    assert (result.status, result.shipped, result.left_out, result.more_unread) == ("capped", 10, 15, False)
    assert "capped at 10 lines (the oldest are shipped): 15 more seen and not shipped" in result.to_dict()["detail"]


@pytest.mark.parametrize(("max_events", "status", "shipped", "more_unread"), [
    (20_000, "done", 10_050, False),  # a second page, read to its end
    (10_000, "capped", 10_000, True),  # the cap is reached on the first page: the next is left unread
])
def test_pages_are_followed_until_the_end_or_the_cap(max_events, status, shipped, more_unread, aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, [f"line {i}" for i in range(10_050)], [now_ms() - 60_000 + i // 10 for i in range(10_050)])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    collector = Collector()

    result = backfill(aws, collector, max_events=max_events)

    assert (result.status, result.shipped, result.more_unread) == (status, shipped, more_unread)
    assert len(set(collector.ids())) == len(collector.ids()) == shipped


def test_run_late_it_stops_after_as_many_lines_from_after_the_filter_as_the_cap(aws, quiet_shipper):
    aws.groups(GROUP)
    aws.subscribe(GROUP, SHIPPER_ARN)
    a_moment()
    log(aws, STREAM_A, [f"after {i}" for i in range(10_050)], [now_ms() - 1000] * 10_050)
    collector = Collector()

    result = backfill(aws, collector, max_events=10_000, overlap_ms=0)

    assert (result.status, result.stopped, result.shipped, result.more_unread) == ("capped", "late", 0, True)
    assert result.after_filter == 10_000


def test_only_the_lines_the_filters_pattern_selects_are_shipped(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["INFO all good", "ERROR card expired", "INFO still good"], [now_ms() - 3, now_ms() - 2,
                                                                                  now_ms() - 1])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN, pattern="ERROR")
    collector = Collector()

    result = backfill(aws, collector)

    assert [item["message"] for item in collector.payloads[0]["logEvents"]] == ["ERROR card expired"]
    assert result.shipped == 1


def test_a_group_without_our_filter_is_reported_and_not_read(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before"], [now_ms()])
    aws.subscribe(GROUP, aws.function("audit-forwarder"), name="logship")
    calls: list[str] = []
    collector = Collector()

    result = backfill(aws, collector, call=lambda op, **params: calls.append(op) or moto_call(aws.logs)(op, **params))

    assert result.status == "no_filter"
    assert result.failed
    assert f"no subscription filter on {GROUP} sends to {SHIPPER_ARN}" in result.errors[0]
    assert calls == ["DescribeSubscriptionFilters"]
    assert collector.payloads == []


def test_a_group_deleted_meanwhile_is_gone_not_failed(aws):
    collector = Collector()

    result = backfill(aws, collector, group="/aws/lambda/short-lived")

    assert result.status == "gone"
    assert not result.failed


def test_reading_stops_when_the_callers_time_runs_out(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before"], [now_ms()])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)

    result = backfill_group(GROUP, destination_arn=SHIPPER_ARN, call=moto_call(aws.logs), deliver=Collector(),
                            config=BackfillConfig(), time_left_ms=lambda: 0)

    assert (result.status, result.read, result.more_unread, result.failed) == ("out_of_time", 0, True, True)
    assert "run the backfill for this group again" in result.detail


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


def answer(request: Any, status: int, code: str, message: str) -> AWSResponse:
    """An AWS error answer in the JSON protocols' shape (CloudWatch Logs and Lambda both read it)."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse(request.url, status, {"x-amzn-RequestId": "refused", "x-amzn-ErrorType": code,
                                             "Content-Type": "application/x-amz-json-1.1"}, _Body(body))


def throttled_logs(when: Callable[[Any], bool]) -> tuple[Any, list[str]]:
    """A logs client (botocore's standard retries, 3 attempts) whose FilterLogEvents is throttled ``when``."""
    client = boto3.client("logs", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 3}))
    refused: list[str] = []

    def throttle(request: Any, **_kwargs: Any) -> AWSResponse | None:
        if not when(request):
            return None
        refused.append(request.url)
        return answer(request, 400, "ThrottlingException", "Rate exceeded")

    client.meta.events.register_first("before-send.cloudwatch-logs.FilterLogEvents", throttle)
    return client, refused


def test_throttling_beyond_the_calls_retries_is_reported_and_a_second_run_finishes(aws, monkeypatch):
    aws.groups(GROUP)
    log(aws, STREAM_A, [f"line {i}" for i in range(10_050)], [now_ms() - 60_000 + i // 10 for i in range(10_050)])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    monkeypatch.setattr("time.sleep", lambda _s: None)  # botocore's backoff, not under test
    client, refused = throttled_logs(lambda request: b"nextToken" in request.body)  # the second page only
    collector = Collector()

    result = backfill(aws, collector, call=moto_call(client), max_events=20_000)

    assert len(refused) > 1  # the call's own retries were spent
    assert (result.status, result.shipped, result.more_unread) == ("failed", 10_000, True)
    assert "FilterLogEvents failed: ThrottlingException: Rate exceeded (10000 lines read before it were shipped)" \
        in result.errors[0]
    assert "run the backfill for this group again" in result.detail
    assert aws.filters(GROUP) == {"logship": SHIPPER_ARN}  # the subscription stays

    again = backfill(aws, collector, max_events=20_000)

    assert (again.status, again.shipped) == ("done", 10_050)
    assert set(collector.ids()) == {event["eventId"] for event in group_events(aws)}


def test_throttling_of_the_first_page_ships_nothing_and_raises_nothing(aws, monkeypatch):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before"], [now_ms()])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    client, _ = throttled_logs(lambda _request: True)

    result = backfill(aws, Collector(), call=moto_call(client))

    assert (result.status, result.shipped, result.failed) == ("failed", 0, True)
    assert result.figures()["backfill_failed"] == 1


# The production deliverer: an asynchronous Lambda invoke of the shipper, against moto's Lambda.

class LambdaWire:
    """A lambda client whose Invoke requests are recorded; those over ``limit`` bytes are answered 413.

    ``refuse`` answers every Invoke with that (status, code, message) instead.
    """

    def __init__(self, limit: int | None = None, refuse: tuple[int, str, str] | None = None) -> None:
        self.client = boto3.client("lambda", region_name=REGION)
        self.accepted: list[Any] = []
        self.refused = 0

        def invoke(request: Any, **_kwargs: Any) -> AWSResponse | None:
            if refuse is not None:
                self.refused += 1
                return answer(request, *refuse)
            if limit is not None and len(request.body) > limit:
                self.refused += 1
                return answer(request, 413, "RequestEntityTooLargeException",
                              f"Request must be smaller than {limit} bytes for the InvokeAsync operation")
            self.accepted.append(request)
            return None  # on to moto

        self.client.meta.events.register_first("before-send.lambda.Invoke", invoke)

    def payloads(self) -> list[dict[str, Any]]:
        return [decoded(json.loads(request.body)) for request in self.accepted]

    def ids(self) -> list[str]:
        return [str(item["id"]) for payload in self.payloads() for item in payload["logEvents"]]


def noisy_lines(count: int, size: int) -> list[str]:
    """Lines gzip cannot shrink much, so payload sizes follow the line count."""
    return [f"#{i} " + base64.b64encode(random.Random(i).randbytes(size)).decode() for i in range(count)]


def test_the_deliverer_invokes_the_shipper_asynchronously_with_a_subscription_payload(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before 1", "before 2"], [now_ms() - 1, now_ms()])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    wire = LambdaWire()

    result = backfill(aws, LambdaDeliverer(wire.client, SHIPPER_ARN))

    assert (result.status, result.shipped, result.payloads) == ("done", 2, 1)
    request = wire.accepted[0]
    assert request.headers["X-Amz-Invocation-Type"] == b"Event"
    assert "/functions/" + SHIPPER_ARN.replace(":", "%3A") + "/invocations" in request.url
    payload = wire.payloads()[0]
    assert {key: payload[key] for key in ("messageType", "owner", "logGroup", "logStream", "subscriptionFilters")} \
        == {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": GROUP, "logStream": STREAM_A,
            "subscriptionFilters": ["logship"]}
    assert [item["message"] for item in payload["logEvents"]] == ["before 1", "before 2"]


def test_a_payload_refused_as_too_large_is_split_until_every_line_is_delivered(aws):
    aws.groups(GROUP)
    lines = noisy_lines(40, 600)
    log(aws, STREAM_A, lines, [now_ms() - 40 + i for i in range(40)])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    wire = LambdaWire(limit=8_000)

    result = backfill(aws, LambdaDeliverer(wire.client, SHIPPER_ARN))

    assert wire.refused > 0
    assert (result.status, result.shipped, result.too_large) == ("done", 40, 0)
    assert result.payloads == len(wire.accepted) > 1
    assert [item["message"] for payload in wire.payloads() for item in payload["logEvents"]] == lines
    assert len(set(wire.ids())) == 40


def test_one_line_too_large_even_alone_is_reported_and_the_others_delivered(aws):
    aws.groups(GROUP)
    lines = noisy_lines(9, 200)
    lines.insert(4, noisy_lines(1, 12_000)[0])
    log(aws, STREAM_A, lines, [now_ms() - 10 + i for i in range(10)])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    big = next(event for event in group_events(aws) if event["message"] == lines[4])
    wire = LambdaWire(limit=8_000)

    result = backfill(aws, LambdaDeliverer(wire.client, SHIPPER_ARN))

    assert (result.status, result.shipped, result.too_large, result.failed) == ("failed", 9, 1, True)
    assert f"line {big['eventId']} of stream {STREAM_A}" in result.errors[0]
    assert "too large even alone: not shipped" in result.errors[0]
    assert [item["message"] for payload in wire.payloads() for item in payload["logEvents"]] \
        == lines[:4] + lines[5:]


def test_a_refused_invoke_is_reported_with_its_reason_and_nothing_is_raised(aws):
    aws.groups(GROUP)
    log(aws, STREAM_A, ["before 1", "before 2"], [now_ms() - 1, now_ms()])
    a_moment()
    aws.subscribe(GROUP, SHIPPER_ARN)
    wire = LambdaWire(refuse=(403, "AccessDeniedException", "not authorized to perform: lambda:InvokeFunction"))

    result = backfill(aws, LambdaDeliverer(wire.client, SHIPPER_ARN))

    assert (result.status, result.shipped, result.unsent) == ("failed", 0, 2)
    assert "delivery to the shipper failed: ClientError" in result.errors[0]
    assert "AccessDeniedException" in result.errors[0]
    assert "run the backfill for this group again" in result.detail
