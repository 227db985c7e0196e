"""What some loggers' JSON records say in keys of their own: Elastic's ECS loggers (``log.level``, ``error.type``
as dotted keys, or nested), and the durable execution SDKs (the execution, the operation, the attempt)."""

from __future__ import annotations

from typing import Any

from logship.ship.lines.common import Fields, normalize_level

# The durable execution SDKs' logger: Python and JavaScript write executionArn, Java's MDC durableExecutionArn
# (aws-durable-execution-sdk-python logger.py, aws-durable-execution-sdk-js default-logger.ts, the docs' logging
# page); "attempt" counts a step's tries from 1 (a string in Java's MDC).
_DURABLE_KEYS = (("operationId", "operation_id"), ("operationName", "operation_name"), ("parentId", "parent_id"))


def dialect_record(value: dict[str, Any], fields: Fields) -> None:
    if "ecs.version" in value or "ecs" in value:
        ecs_record(value, fields)
    if "executionArn" in value or "durableExecutionArn" in value:
        durable_record(value, fields)


def durable_record(value: dict[str, Any], fields: Fields) -> None:
    """``lambda.durable.*`` from a record the SDK's logger wrote: every line of one execution has its ARN."""
    arn = value.get("executionArn") or value.get("durableExecutionArn")
    if not (isinstance(arn, str) and "/durable-execution/" in arn):
        return
    durable: dict[str, Any] = {"execution_arn": arn}
    for key, name in _DURABLE_KEYS:
        if isinstance(value.get(key), str) and value[key]:
            durable[name] = value[key]
    attempt = value.get("attempt")
    if isinstance(attempt, int | str) and not isinstance(attempt, bool) and str(attempt).isdigit():
        durable["attempt"] = int(attempt)
    fields.setdefault("lambda", {})["durable"] = durable


def ecs_record(value: dict[str, Any], fields: Fields) -> None:
    """An ECS logger's record (ecs-logging for Java, Python, Node's winston and pino formats): its level, logger
    and error as ECS fields, whether written as dotted keys or nested objects."""
    log = value.get("log") if isinstance(value.get("log"), dict) else {}
    level = normalize_level(log.get("level")) if "log" not in fields or "level" not in fields["log"] else None
    if level:
        fields.setdefault("log", {})["level"] = level
    if isinstance(log.get("logger"), str) and log["logger"]:
        fields.setdefault("log", {}).setdefault("logger", log["logger"])
    error = {key: value[f"error.{key}"] for key in ("type", "message", "stack_trace") if f"error.{key}" in value}
    if isinstance(error.get("stack_trace"), list):  # ecs-logging-java: one string per frame
        error["stack_trace"] = "\n".join(str(frame) for frame in error["stack_trace"])
    error = {key: text for key, text in error.items() if isinstance(text, str) and text}
    if error:
        fields["error"] = {**fields.get("error", {}), **error}
    for dotted, field, key in (("service.name", "service", "name"), ("trace.id", "trace", "id")):
        if isinstance(value.get(dotted), str) and value[dotted]:
            fields.setdefault(field, {}).setdefault(key, value[dotted])
