"""ship-logs end to end: a subscription event in, documents written, one summary line out."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import IO, Any

from logship.cluster.client import bulk_options
from logship.core.config import ShipperConfig
from logship.core.report import emit
from logship.core.selection import Verdict
from logship.ship.documents import Document, DocumentBuilder, degraded_document, failed_document
from logship.ship.function_metrics import FunctionMetrics
from logship.ship.lines import LineParser
from logship.ship.payload import Delivery, read_delivery
from logship.ship.redaction import Redactor
from logship.ship.report import shipper_summary
from logship.ship.sink import BulkSink, Deadline, Ledger, WriteStoppedError


class ShipError(RuntimeError):
    """Some events are still unindexed; raising makes Lambda retry and, after that, keep the event."""


class LambdaDeadline:
    """A :class:`~logship.ship.sink.Deadline` over the Lambda context."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def remaining_ms(self) -> int:
        return int(self._context.get_remaining_time_in_millis())


class Shipper:
    """Everything one cold start builds once: the document builder and the sink with its fallbacks."""

    def __init__(self, config: ShipperConfig, client: Any,
                 refresh_credentials: Callable[[], None] | None = None) -> None:
        self.config = config
        naming = config.naming  # daily indices, or the data stream (and its failed twin)
        self.builder = DocumentBuilder(
            region=config.region, naming=naming,
            parser=LineParser(config.correlation_keys),
            redactor=Redactor(config.redact_builtins, config.redact_patterns, config.redact_keys),
            function_name_pattern=config.function_name_pattern, document_ids=config.document_ids)

        def to_failed_index(document: Document, reason: dict[str, Any]) -> Document:
            return failed_document(document, naming, reason)

        self.sink = BulkSink(client, fallbacks=(degraded_document, to_failed_index),
                             max_bytes=config.bulk_max_bytes, max_docs=config.bulk_max_docs,
                             refresh_credentials=refresh_credentials, bulk_options=bulk_options(config),
                             document_ids=config.document_ids)

    def ship(self, event: Any, deadline: Deadline, stream: IO[str] | None = None) -> dict[str, Any]:
        """Index one subscription event. Returns the summary; raises :class:`ShipError` if anything is pending.

        The summary line is printed whenever the payload could be read, also when sending had to stop
        (credentials refused or unusable): that error is raised after it, with every event accounted for.
        """
        started = time.perf_counter()
        stopped: WriteStoppedError | None = None
        metrics = FunctionMetrics()
        collecting = gc.isenabled()
        # The per-event path makes no reference cycles: reference counting frees it all. The cyclic collector
        # would only walk the batch's young objects, and now and then everything the libraries hold.
        gc.disable()
        try:
            batch = read_delivery(event)
            left_out = self._left_out(batch)
            try:
                # Built, encoded and sent a bulk request at a time: the batch's documents never all exist at once.
                ledger = Ledger() if batch.is_control or left_out else self.sink.write(
                    self.builder.pages(batch, metrics), deadline, failed=self.builder.rejected(batch))
            except WriteStoppedError as exc:  # the sink attaches its ledger: every event accounted for
                stopped, ledger = exc, exc.ledger
        except Exception as exc:  # a bad payload, or a bug: the one line says so
            emit({"logship": "ship-logs", "level": "error", "error": f"{type(exc).__name__}: {exc}"[:2000]}, stream)
            raise
        finally:
            if collecting:
                gc.enable()
        # Verbatim repeats within the batch were never sent: one document stands for them.
        if not left_out:
            ledger.events_in += batch.repeats
            ledger.duplicates += batch.repeats
        summary = self._summary(ledger, batch, started)
        if left_out:
            summary.update(left_out=left_out, left_out_events=batch.size)
        emit(summary, stream)
        if stopped is not None:
            raise stopped
        if ledger.pending:
            raise ShipError(
                f"{ledger.pending} of {ledger.events_in} events from {batch.log_group} are not indexed yet "
                f"({'; '.join(ledger.reasons)}); Lambda will retry the batch, then keep it in the dead-letter queue"
            )
        # Only once the batch is settled: a retried batch must not count its metrics twice.
        for record in metrics.records(self.config.function_metrics_namespace):
            emit(record, stream)
        return summary

    def _left_out(self, batch: Delivery) -> str:
        """Why an account policy's delivery is not shipped (the selection leaves its group out), else ``""``."""
        selection = self.config.selection
        if selection is None or batch.is_control:
            return ""
        verdict = selection.delivered(batch.log_group, batch.log_stream)
        if verdict is Verdict.INCLUDED:
            return ""
        if verdict is Verdict.LOGSHIP:
            return "a logship stack's own group (named like one): never shipped"
        return selection.why(batch.log_group)

    def _summary(self, ledger: Ledger, batch: Delivery, started: float) -> dict[str, Any]:
        figures = asdict(ledger)
        reasons = figures.pop("reasons")
        figures.pop("confirmed_on_retry")  # told in the reasons: it is part of ``indexed``
        figures["ms"] = round((time.perf_counter() - started) * 1000, 1)
        summary = shipper_summary(figures, namespace=self.config.metrics_namespace,
                                  function_name=self.config.function_name)
        summary.update(log_group=batch.log_group, log_stream=batch.log_stream, message_type=batch.message_type,
                       account=batch.owner, region=batch.region or self.config.region)
        if batch.newest_ms:  # how long its newest event took to be shipped: `logship status` shows it per source
            summary["lag_ms"] = max(0, int(time.time() * 1000) - batch.newest_ms)
        if reasons:
            summary["reasons"] = reasons
        return summary
