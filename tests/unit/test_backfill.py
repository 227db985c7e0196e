"""The backfill's settings, its reading window, and delivery by halves: no network."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from logship.core.config import BackfillConfig, ConfigError
from logship.ship.payload import parse_batch
from logship.subscribe.backfill import Subscription, choose_window
from logship.subscribe.delivery import PayloadTooLarge, deliver_split, subscription_event

HOUR_MS = 3_600_000
NOW_MS = 1_795_000_000_000


def test_defaults_ship_a_day_capped_at_ten_thousand_lines():
    config = BackfillConfig.from_env({})
    assert (config.enabled, config.hours, config.lookback_ms, config.max_events) == (True, 24, 24 * HOUR_MS, 10_000)


def test_zero_hours_turns_backfill_off():
    assert not BackfillConfig.from_env({"BACKFILL_HOURS": "0"}).enabled


def test_settings_are_read():
    config = BackfillConfig.from_env({"BACKFILL_HOURS": " 336 ", "BACKFILL_MAX_EVENTS": "500"})
    assert (config.hours, config.max_events) == (336, 500)


@pytest.mark.parametrize(("env", "says"), [
    ({"BACKFILL_HOURS": "a day"}, "BACKFILL_HOURS='a day' is not a whole number (hours of a log group's lines"),
    ({"BACKFILL_HOURS": "1.5"}, "BACKFILL_HOURS='1.5' is not a whole number"),
    ({"BACKFILL_HOURS": "-1"}, "BACKFILL_HOURS=-1 must be at least 0"),
    ({"BACKFILL_HOURS": "337"}, "BACKFILL_HOURS=337 must be at most 336 (hours of a log group's lines from before its "
                                "subscription to ship; 0 turns backfill off)"),
    ({"BACKFILL_MAX_EVENTS": "0"}, "BACKFILL_MAX_EVENTS=0 must be at least 1"),
    ({"BACKFILL_MAX_EVENTS": "0"}, "to ship none, set BACKFILL_HOURS=0"),
    ({"BACKFILL_MAX_EVENTS": "lots"}, "BACKFILL_MAX_EVENTS='lots' is not a whole number"),
])
def test_bad_settings_are_explained(env, says):
    with pytest.raises(ConfigError) as error:
        BackfillConfig.from_env(env)
    assert says in str(error.value)


FILTER = Subscription("logship", NOW_MS - 1000, '{ $.level = "ERROR" }')


@pytest.mark.parametrize(("group_age_hours", "start"), [
    (0, None),  # created just now: its whole life
    (23, None),  # within the lookback: its whole life, lines stamped before it included
    (25, NOW_MS - 24 * HOUR_MS),  # older: as far back as the lookback, on event timestamps
])
def test_the_window_is_a_young_groups_whole_life_else_the_lookback(group_age_hours, start):
    window = choose_window(FILTER, group_created_ms=NOW_MS - group_age_hours * HOUR_MS, now_ms=NOW_MS,
                           lookback_ms=24 * HOUR_MS, overlap_ms=60_000)

    assert window.start_ms == start
    assert window.ingested_until_ms == FILTER.created_ms + 60_000  # a minute past the filter's creation
    params = window.params("/aws/lambda/orders")
    assert params.get("startTime") == start
    assert params["filterPattern"] == FILTER.pattern
    assert "endTime" not in params  # lines may be stamped ahead of their ingestion


def items(count: int, size: int = 10) -> list[dict[str, Any]]:
    return [{"id": str(i), "timestamp": NOW_MS + i, "message": f"{i:0{size}d}"} for i in range(count)]


def payload_for(part: Any) -> dict[str, Any]:
    return subscription_event(owner="123456789012", log_group="/aws/lambda/orders", log_stream="s",
                              filter_name="logship", events=part)


def test_the_shipper_reads_the_payload_the_backfill_sends():
    event = json.loads(json.dumps(payload_for(items(3))))

    batch = parse_batch(event)

    assert (batch.message_type, batch.owner, batch.log_group, batch.log_stream) == (
        "DATA_MESSAGE", "123456789012", "/aws/lambda/orders", "s")
    assert [(e.id, e.timestamp, e.message) for e in batch.events] == [(i["id"], i["timestamp"], i["message"])
                                                                      for i in items(3)]


class Destination:
    """Accepts payloads up to ``limit`` bytes (serialised), refuses larger ones as too large; fails at ``fail_at``."""

    def __init__(self, limit: int, fail_at: int | None = None) -> None:
        self.limit = limit
        self.fail_at = fail_at
        self.accepted: list[list[str]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if self.fail_at is not None and len(self.accepted) == self.fail_at:
            raise RuntimeError("AccessDenied")
        if len(json.dumps(event)) > self.limit:
            raise PayloadTooLarge("413")
        self.accepted.append([e.id for e in parse_batch(event).events])


def test_halving_delivers_every_event_once_in_order():
    events = items(37, size=400)
    destination = Destination(limit=len(json.dumps(payload_for(events[:5]))))

    handover = deliver_split(destination, events, payload_for)

    assert [i for part in destination.accepted for i in part] == [e["id"] for e in events]
    assert (handover.delivered, handover.payloads, handover.too_large) == (37, len(destination.accepted), [])
    assert handover.payloads > 5


def test_an_event_too_large_alone_is_handed_back_not_dropped():
    events = items(6)
    events[2] = {**events[2], "message": base64.b64encode(random.Random(2).randbytes(5000)).decode()}  # gzip-proof
    destination = Destination(limit=2000)

    handover = deliver_split(destination, events, payload_for)

    assert handover.too_large == [events[2]]
    assert [i for part in destination.accepted for i in part] == ["0", "1", "3", "4", "5"]
    assert handover.delivered == 5


def test_another_refusal_stops_delivery_and_counts_what_was_not_delivered():
    events = items(40, size=400)
    destination = Destination(limit=len(json.dumps(payload_for(events[:10]))), fail_at=1)

    handover = deliver_split(destination, events, payload_for)

    assert handover.error == "RuntimeError: AccessDenied"
    assert handover.delivered == len(destination.accepted[0])
    assert handover.delivered + handover.undelivered == 40


def test_nothing_to_deliver_calls_nothing():
    destination = Destination(limit=0)
    handover = deliver_split(destination, [], payload_for)
    assert (handover.delivered, handover.payloads, destination.accepted) == (0, 0, [])
