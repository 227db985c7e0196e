"""ship-logs behind a Kinesis data stream: each record is one CloudWatch Logs subscription payload.

Lambda's event source mapping hands over a batch of one shard's records, in order, and with
``ReportBatchItemFailures`` retries from the lowest sequence number reported (the later records come again).
So the records are shipped in order, consecutive ones together (their documents share bulk requests: one
request per record would cost a round trip each), and the first record of the first run whose events are not
all indexed (the cluster refused, time ran short) is reported, nothing after it tried: Kinesis redelivers it
and what follows, and the events' ids keep each one once. A record that can never be read (not a CloudWatch
Logs payload) is kept in the dead-letter queue with the reason, in Lambda's own on-failure shape, and counted
done, so one poison record never holds up its shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from logship.core.report import emit
from logship.ship.dead_letters import Keep, on_failure_message
from logship.ship.payload import Delivery, PayloadError, read_delivery
from logship.ship.sink import MisconfiguredError

KINESIS_SOURCE = "aws:kinesis"


def is_kinesis_event(event: Any) -> bool:
    """An event source mapping's batch of Kinesis records (rather than a subscription's ``awslogs``)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records[0], dict) and records[0].get("eventSource") == KINESIS_SOURCE


def kept_record(record: Mapping[str, Any], reason: str, function_arn: str, *, condition: str = "PoisonRecord",
                error_type: str = "PayloadError") -> str:
    """A record kept in the dead-letter queue, as Lambda's on-failure record would hold its event: ``logship redrive``
    lists it with the reason, and replays it once its data can be shipped (an unreadable one stays for a person)."""
    kinesis = record.get("kinesis") or {}
    return on_failure_message({"awslogs": {"data": kinesis.get("data", "")}}, condition=condition,
                              error_type=error_type, reason=reason, function_arn=function_arn,
                              request_id=str(record.get("eventID", "")),
                              kinesis={"eventSourceARN": record.get("eventSourceARN", ""),
                                       "partitionKey": kinesis.get("partitionKey", ""),
                                       "sequenceNumber": kinesis.get("sequenceNumber", "")})


Records = list[dict[str, Any]]


def _groups(records: Records, max_events: int, max_bytes: int) -> Iterator[tuple[Records, list[Delivery] | str]]:
    """The records in order, read: runs of readable ones no larger together than a bulk request carries (at most
    ``max_events`` events and ``max_bytes`` of JSON, or one delivery alone), and each unreadable one alone with
    why. Read as they are shipped: a run and the record after it at most are in memory at once, never the batch."""
    run: Records = []
    deliveries: list[Delivery] = []
    events = size = 0
    for record in records:
        try:
            delivery = read_delivery({"awslogs": {"data": (record.get("kinesis") or {}).get("data", "")}})
        except PayloadError as exc:
            if run:
                yield run, deliveries
                run, deliveries, events, size = [], [], 0, 0
            yield [record], str(exc)
            continue
        if run and (events + delivery.size > max_events or size + delivery.raw_bytes > max_bytes):
            yield run, deliveries
            run, deliveries, events, size = [], [], 0, 0
        run.append(record)
        deliveries.append(delivery)
        events, size = events + delivery.size, size + delivery.raw_bytes
    if run:
        yield run, deliveries


@dataclass(slots=True)
class RecordsOutcome:
    """What became of a batch's records: shipped (in ``runs``), kept as unreadable, or left from ``retry_from``."""

    records: int
    shipped: int = 0
    runs: int = 0
    kept_unreadable: int = 0
    kept_misconfigured: int = 0
    retry_from: str | None = None
    reason: str = ""

    def line(self) -> dict[str, Any]:
        level = "error" if self.kept_misconfigured else "warning" if self.retry_from else "info"
        kept = self.kept_unreadable + self.kept_misconfigured
        line: dict[str, Any] = {"logship": "ship-logs-records", "level": level,
                                "records": self.records, "shipped": self.shipped, "shipped_together_in": self.runs,
                                "kept_unreadable": self.kept_unreadable, "kept_misconfigured": self.kept_misconfigured,
                                "left_for_retry": self.records - self.shipped - kept}
        if self.retry_from:
            line["retry_from"] = self.retry_from
        if self.reason:
            line["reason"] = self.reason
        return line

    def answer(self) -> dict[str, Any]:
        """Lambda's partial batch response."""
        return {"batchItemFailures": [{"itemIdentifier": self.retry_from}] if self.retry_from else []}


def ship_runs(records: Records, ship: Callable[[list[Delivery]], Any], keep: Keep, *, function_arn: str,
              max_events: int, max_bytes: int) -> RecordsOutcome:
    """Ship the records' payloads in order, consecutive ones together with ``ship`` (their documents share bulk
    requests).

    A run whose events are not all indexed (``ship`` raised) is reported from its first record, the records after
    it left for the retry: what of it was indexed comes again as duplicates, by id. An unreadable record is kept
    with ``keep`` once the records before it are shipped (so a retry never keeps it twice).
    """
    outcome = RecordsOutcome(len(records))
    for run, deliveries in _groups(records, max_events, max_bytes):
        first = str((run[0].get("kinesis") or {}).get("sequenceNumber", ""))
        if isinstance(deliveries, str):  # unreadable: no retry can ship it
            try:
                keep(kept_record(run[0], deliveries, function_arn))
            except Exception as keep_error:  # not kept: retried rather than lost
                outcome.retry_from, outcome.reason = first, f"could not keep an unreadable record: {keep_error}"
                break
            outcome.kept_unreadable += 1
            continue
        try:
            ship(deliveries)
        except MisconfiguredError as exc:  # every retry would be refused alike: keep the run with the fix
            if not _kept(run, exc, keep, function_arn, outcome):
                outcome.retry_from = first
                break
            continue
        except Exception as exc:  # the cluster, the deadline, a bug: Kinesis redelivers from here
            outcome.retry_from, outcome.reason = first, f"{type(exc).__name__}: {exc}"[:500]
            break
        outcome.shipped += len(run)
        outcome.runs += 1
    return outcome


def _kept(run: Records, exc: MisconfiguredError, keep: Keep, function_arn: str, outcome: RecordsOutcome) -> bool:
    """Keep each record of a run the cluster refused for its settings; False (and why) when one could not be.

    Records of the run kept before a failure come again with the retry: their copies replay as duplicates."""
    try:
        for record in run:
            keep(kept_record(record, str(exc), function_arn, condition="Misconfigured",
                             error_type=type(exc).__name__))
    except Exception as keep_error:
        outcome.reason = f"{exc}; and could not keep its records: {keep_error}"[:500]
        return False
    outcome.kept_misconfigured += len(run)
    outcome.reason = str(exc)[:500]
    return True


def ship_records(event: Mapping[str, Any], ship: Callable[[list[Delivery]], Any], keep: Keep, *,
                 function_arn: str, max_events: int, max_bytes: int, stream: IO[str] | None = None) -> dict[str, Any]:
    """:func:`ship_runs` over an event source mapping's batch; one line says what happened; answers Lambda's
    partial batch response."""
    outcome = ship_runs(list(event.get("Records") or []), ship, keep, function_arn=function_arn,
                        max_events=max_events, max_bytes=max_bytes)
    emit(outcome.line(), stream)
    return outcome.answer()
