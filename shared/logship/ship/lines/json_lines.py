"""JSON lines: Lambda's JSON log format, Powertools, pino, bunyan, winston, structlog, ``console.log`` of JSON.

The whole object stays searchable under ``json``; well-known keys become ECS fields. A record whose
``message`` is itself a JSON object (``console.log(JSON.stringify(...))`` under the JSON log format)
is searched like that object: its keys join the record's under ``json``, and win where both have one,
as they do when the same object is logged in the text format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from logship.ship.lines.common import Fields, execution, loads_json, normalize_level, promote_error
from logship.ship.lines.dialects import dialect_record
from logship.ship.lines.family import Family, Lines
from logship.ship.lines.json_fit import MAX_DEPTH, SHORT_LINE, fit, fit_text
from logship.ship.lines.platform import platform_record

# What one line may add under ``correlation`` (configured keys first, then ``x-correlation-*`` in line order):
# a line with thousands of keys cannot spend an index's field budget; every key stays searchable in ``json``.
MAX_CORRELATION_KEYS = 16

# Where each library keeps the request id: Lambda's JSON format (requestId; Java: AWSRequestId), Powertools
# (function_request_id), pino-lambda and lambda-log (awsRequestId), aws-lambda-slf4j (aws-request-id).
_SCALARS = (str, int, float)
_FAILED = frozenset(("ERROR", "FATAL"))
_REQUEST_ID_KEYS = ("requestId", "function_request_id", "request_id", "AWSRequestId", "awsRequestId",
                    "aws-request-id")


class JsonLines:
    """JSON objects -> fields, with the configured correlation keys; one per parser."""

    def __init__(self, correlation_keys: Iterable[str]) -> None:
        self._correlation_keys = tuple(dict.fromkeys(correlation_keys))

    def parse(self, candidate: str, original: str) -> tuple[str, Fields]:
        """``candidate`` is the JSON text, ``original`` the whole line (kept in ``event.original``)."""
        try:
            value = loads_json(candidate)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            return candidate, {}
        if not isinstance(value, dict):
            return candidate, {}  # a list, number or string stays plain text
        if "record" in value and isinstance(value.get("type"), str) and value["type"].startswith("platform."):
            return original, platform_record(value, original)
        value = _with_inner_object(value)
        fields: Fields = {"json": value, "event": {"original": original}}
        if len(candidate) > SHORT_LINE or candidate.count("{") >= MAX_DEPTH:  # json_fit.may_not_fit, inline
            fields["json"], cut = fit(value, candidate)
            if cut:
                fields["logship"] = {"reason": cut}
        message = _promote(value, fields)
        self._correlate(value, fields)
        return (message if message is not None else candidate), fields

    def _correlate(self, value: dict[str, Any], fields: Fields) -> None:
        found: dict[str, str] = {}
        for key in self._correlation_keys:
            v = value.get(key)
            if isinstance(v, _SCALARS) and not isinstance(v, bool) and len(found) < MAX_CORRELATION_KEYS:
                text = str(v)
                found[key] = text if len(text) <= SHORT_LINE else fit_text(text, f"correlation.{key}")
        # No key starts with x-correlation- unless the keys, decoded and joined, hold it: one search, exact.
        for key, v in value.items() if "x-correlation-" in "\n".join(value) else ():
            if key.startswith("x-correlation-") and isinstance(v, _SCALARS) and not isinstance(v, bool):
                if len(found) >= MAX_CORRELATION_KEYS:
                    break
                text = str(v)
                found.setdefault(key, text if len(text) <= SHORT_LINE else fit_text(text, f"correlation.{key}"))
        if found:
            fields["correlation"] = found


def _with_inner_object(value: dict[str, Any]) -> dict[str, Any]:
    """``{"level": "INFO", "message": "{\\"orderId\\": 7}"}`` -> ``{"level": "INFO", "orderId": 7}`` (Go's slog
    says ``msg``: aws-lambda-go's panic JSON logged as one, say)."""
    key = "message" if "message" in value else "msg"
    message = value.get(key)
    if not (isinstance(message, str) and message[:1] == "{" and message[-1:] == "}"):
        return value
    try:
        inner = loads_json(message)
    except (ValueError, RecursionError):
        return value
    if not isinstance(inner, dict):
        return value
    outer = {name: v for name, v in value.items() if name != key}
    return outer | inner


def _promote(value: dict[str, Any], fields: Fields) -> str | None:
    """Well-known keys of JSON log records -> ECS fields; returns the record's own message, if any."""
    # Python's runtime writes its uncaught error record with "log_level" (its other records say "level").
    level = normalize_level(value.get("level") or value.get("levelname") or value.get("severity")
                            or value.get("log_level") or value.get("log.level"))  # Elastic's ECS loggers: dotted
    if level:
        fields["log"] = {"level": level}
    # Lambda's JSON log format, aws-lambda-slf4j, ECS loggers; bunyan and pino name their logger "name".
    logger = (value.get("logger") or value.get("logname") or value.get("log.logger")
              or (value.get("name") if "hostname" in value and "msg" in value else None))
    if isinstance(logger, str) and logger:
        fields.setdefault("log", {})["logger"] = logger
    if "ecs.version" in value or "ecs" in value or "executionArn" in value or "durableExecutionArn" in value:
        dialect_record(value, fields)  # ECS loggers, the durable execution SDKs: dialects.py
    for key in _REQUEST_ID_KEYS:
        request_id = value.get(key)
        if isinstance(request_id, str) and request_id:
            execution(fields, request_id)
            break
    if isinstance(value.get("cold_start"), bool):
        fields.setdefault("faas", {})["coldstart"] = value["cold_start"]
    if isinstance(value.get("service"), str):
        fields["service"] = {"name": value["service"]}
    trace = value.get("xray_trace_id") or value.get("traceId")
    if isinstance(trace, str):
        fields["trace"] = {"id": trace}
    promote_error(value, fields)
    if "errorType" in value and "errorMessage" in value and level not in _FAILED:
        # A runtime's error response (aws-lambda-go's panic logged by slog at INFO, say) is a failure.
        fields.setdefault("log", {})["level"] = "ERROR"
    return _message(value, fields)


def _message(value: dict[str, Any], fields: Fields) -> str | None:
    message = value.get("message", value.get("msg"))
    if isinstance(message, dict):  # Node's JSON format logs an error object as the message
        promote_error(message, fields)
    if message is None and isinstance(value.get("event"), str):
        message = value["event"]  # structlog's JSONRenderer
    if isinstance(message, str):
        return message
    if message is not None and not isinstance(message, dict | list):
        return str(message)
    error = fields.get("error")
    if message is None and error and "message" in error:  # an error record: "KeyError: 'orderId'"
        return f"{error['type']}: {error['message']}" if "type" in error else error["message"]
    return None


def _json_line(text: str, lines: Lines) -> tuple[str, Fields]:
    return lines.json(text, text)


JSON = Family("JSON: Lambda's JSON log format, Powertools, pino, bunyan, winston, ...", _json_line, first="{")
