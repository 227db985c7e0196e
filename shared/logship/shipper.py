"""ship-logs end to end: a subscription event in, documents written, one summary line out."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import IO, Any

from logship.config import ShipperConfig
from logship.documents import build_documents, failed_document
from logship.payload import parse_batch
from logship.report import emit, shipper_summary
from logship.sink import BulkSink, Deadline, Ledger


class ShipError(RuntimeError):
    """Some events are still unindexed; raising makes Lambda retry and, after that, keep the event."""


class LambdaDeadline:
    """A :class:`~logship.sink.Deadline` over the Lambda context."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def remaining_ms(self) -> int:
        return int(self._context.get_remaining_time_in_millis())


def make_sink(client: Any, config: ShipperConfig) -> BulkSink:
    def to_failed_index(document: Any, reason: dict[str, Any]) -> Any:
        return failed_document(document, config.index_prefix, reason)

    return BulkSink(client, fallbacks=(to_failed_index,), max_bytes=config.bulk_max_bytes,
                    max_docs=config.bulk_max_docs)


def ship(event: Any, sink: BulkSink, config: ShipperConfig, deadline: Deadline,
         stream: IO[str] | None = None) -> dict[str, Any]:
    """Index one subscription event. Returns the summary; raises :class:`ShipError` if anything is pending."""
    started = time.perf_counter()
    batch = parse_batch(event)
    if batch.is_control:
        ledger = Ledger()
    else:
        documents = build_documents(batch, index_prefix=config.index_prefix, region=config.region)
        ledger = sink.write(documents, deadline)
    figures = asdict(ledger)
    reasons = figures.pop("pending_reasons")
    figures.pop("requests")
    figures["ms"] = round((time.perf_counter() - started) * 1000, 1)
    summary = shipper_summary(figures, namespace=config.metrics_namespace, function_name=config.function_name)
    summary.update(log_group=batch.log_group, log_stream=batch.log_stream, message_type=batch.message_type)
    if reasons:
        summary["pending_reasons"] = reasons
    emit(summary, stream)
    if ledger.pending:
        raise ShipError(
            f"{ledger.pending} of {ledger.events_in} events from {batch.log_group} are not indexed yet "
            f"({'; '.join(reasons)}); Lambda will retry the batch, then keep it in the dead-letter queue"
        )
    return summary
