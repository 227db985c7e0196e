"""ship-logs end to end: a subscription event in, documents written, one summary line out."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from itertools import chain
from typing import IO, Any

from logship.cluster.client import bulk_options
from logship.core.config import ShipperConfig
from logship.core.report import emit
from logship.core.selection import Verdict
from logship.ship.dead_letters import Keep, on_failure_message
from logship.ship.documents import Document, DocumentBuilder, degraded_document, failed_document
from logship.ship.function_metrics import FunctionMetrics
from logship.ship.lines import LineParser
from logship.ship.payload import Delivery, read_delivery
from logship.ship.redaction import Redactor
from logship.ship.report import shipper_summary
from logship.ship.sink import BulkSink, Deadline, Ledger, MisconfiguredError, WriteStoppedError
from logship.ship.transformed import OriginalInKey


class ShipError(RuntimeError):
    """Some events are still unindexed; raising makes Lambda retry and, after that, keep the event."""


def _error_line(exc: Exception, stream: IO[str] | None) -> None:
    """The one line a payload that cannot be read, or a bug, leaves before the exception goes to Lambda."""
    emit({"logship": "ship-logs", "level": "error", "error": f"{type(exc).__name__}: {exc}"[:2000]}, stream)


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
        parser = LineParser(config.correlation_keys)
        self.builder = DocumentBuilder(
            region=config.region, naming=naming,
            parser=OriginalInKey(parser, config.transformed_original_key) if config.transformed_original_key
            else parser,
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
        try:
            delivery = read_delivery(event)
        except Exception as exc:  # a bad payload: the one line says so
            _error_line(exc, stream)
            raise
        return self.ship_deliveries([delivery], deadline, stream)

    def ship_deliveries(self, deliveries: Sequence[Delivery], deadline: Deadline,
                        stream: IO[str] | None = None) -> dict[str, Any]:
        """Index deliveries already read, together: their documents share bulk requests (Kinesis records).

        One summary line for them all; raises as :meth:`ship` does when any of their events is not indexed.
        """
        started = time.perf_counter()
        stopped: WriteStoppedError | None = None
        metrics = FunctionMetrics()
        collecting = gc.isenabled()
        # The per-event path makes no reference cycles: reference counting frees it all. The cyclic collector
        # would only walk the batch's young objects, and now and then everything the libraries hold.
        gc.disable()
        try:
            left_out = [self._left_out(delivery) for delivery in deliveries]
            shipped = [delivery for delivery, why in zip(deliveries, left_out, strict=True)
                       if not why and not delivery.is_control]
            try:
                # Built, encoded and sent a bulk request at a time: the documents never all exist at once.
                ledger = self.sink.write(
                    chain.from_iterable(self.builder.pages(delivery, metrics) for delivery in shipped), deadline,
                    failed=chain.from_iterable(map(self.builder.rejected, shipped))) if shipped else Ledger()
            except WriteStoppedError as exc:  # the sink attaches its ledger: every event accounted for
                stopped, ledger = exc, exc.ledger
        except Exception as exc:  # a bug: the one line says so
            _error_line(exc, stream)
            raise
        finally:
            if collecting:
                gc.enable()
        # Verbatim repeats within a delivery were never sent: one document stands for them.
        repeats = sum(delivery.repeats for delivery in shipped)
        ledger.events_in += repeats
        ledger.duplicates += repeats
        summary = self._summary(ledger, deliveries, left_out, started)
        emit(summary, stream)
        if stopped is not None:
            raise stopped
        if ledger.pending:
            groups = ", ".join(sorted({delivery.log_group for delivery in shipped}))
            raise ShipError(
                f"{ledger.pending} of {ledger.events_in} events from {groups} are not indexed yet "
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

    def _summary(self, ledger: Ledger, deliveries: Sequence[Delivery], left_out: list[str],
                 started: float) -> dict[str, Any]:
        figures = asdict(ledger)
        reasons = figures.pop("reasons")
        figures.pop("confirmed_on_retry")  # told in the reasons: it is part of ``indexed``
        figures["ms"] = round((time.perf_counter() - started) * 1000, 1)
        summary = shipper_summary(figures, namespace=self.config.metrics_namespace,
                                  function_name=self.config.function_name)
        if len(deliveries) == 1:
            summary.update(self._described(deliveries[0], left_out[0]))
        else:  # Kinesis records shipped together: each payload's source and size (`logship status` lists them)
            summary["payloads"] = [{**self._described(delivery, why), "events": delivery.size}
                                   for delivery, why in zip(deliveries, left_out, strict=True)]
        if reasons:
            summary["reasons"] = reasons
        return summary

    def _described(self, delivery: Delivery, left_out: str) -> dict[str, Any]:
        """Where one payload came from (for a centralized copy, where its first event was logged), and how far behind
        its newest event was when shipped."""
        described: dict[str, Any] = {
            "log_group": delivery.log_group, "log_stream": delivery.log_stream, "message_type": delivery.message_type,
            "account": delivery.account, "region": delivery.origin.region or delivery.region or self.config.region}
        if delivery.newest_ms:
            described["lag_ms"] = max(0, int(time.time() * 1000) - delivery.newest_ms)
        if left_out:
            described.update(left_out=left_out, left_out_events=delivery.size)
        return described


def ship_or_keep(shipper: Shipper, event: Any, deadline: Deadline, keep: Keep, function_arn: str,
                 stream: IO[str] | None = None) -> dict[str, Any]:
    """A subscription event, shipped; or, when the cluster refuses it for a setting (a permission, automatic index
    creation off, a missing pipeline), kept in the dead-letter queue at once with what to fix: Lambda's two
    retries would meet the same refusal. When it cannot be kept, the refusal is raised: Lambda retries the batch
    and then keeps it with that reason."""
    try:
        return shipper.ship(event, deadline, stream)
    except MisconfiguredError as exc:
        try:
            keep(on_failure_message(event, condition="Misconfigured", error_type=type(exc).__name__,
                                    reason=str(exc), function_arn=function_arn))
        except Exception as keep_error:
            raise exc from keep_error
        line = {"logship": "ship-logs", "level": "error", "error": f"{type(exc).__name__}: {exc}"[:2000],
                "kept": "the batch is in the dead-letter queue: fix the cause, then replay it (logship redrive)"}
        emit(line, stream)
        return line
