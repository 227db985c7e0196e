"""One Lambda log line -> its searchable message and the structured fields it carries.

Pure functions: no I/O, never raises on any input. Formats understood (see README, "Fields"):
Lambda platform lines (INIT_START, START, END, REPORT, timeouts, runtime exits, EXTENSION, TELEMETRY),
Python and Node.js runtime lines, JSON lines (Lambda's JSON log format, Powertools, console.log of
JSON), and ``MONITORING|epoch|value|unit|name`` metric lines. Fields use ECS names, nested as objects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

Fields = dict[str, Any]

LEVELS = {
    "TRACE": "TRACE", "DEBUG": "DEBUG", "INFO": "INFO", "NOTICE": "INFO", "LOG": "INFO",
    "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR", "ERR": "ERROR",
    "FATAL": "FATAL", "CRITICAL": "FATAL", "CRIT": "FATAL", "EMERGENCY": "FATAL", "ALERT": "FATAL",
}

_PYTHON = re.compile(r"\[([A-Za-z]+)\]\t(\S+)\t(\S+)\t(.*)", re.S)
_PYTHON_BARE = re.compile(r"\[([A-Z]+)\]\s+(.*)", re.S)  # uncaught exceptions: "[ERROR] ValueError: ..."
_NODE = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+Z)\t(\S+)\t([A-Z]+)\t(.*)", re.S)
_TIMEOUT = re.compile(r"(?:\S+ )?(\S+) Task timed out after ([\d.]+) seconds")
_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: (\S+)")
_REPORT = re.compile(r"REPORT RequestId: (\S+)(.*)", re.S)
_PAIR = re.compile(r"([A-Za-z][A-Za-z ]*?):\s*([^\t\n]*)")
_XRAY = re.compile(r"XRAY TraceId: (\S+)")
_INIT_START = re.compile(r"INIT_START Runtime Version: (\S+)")
_EXITED = re.compile(r"(?:RequestId: (\S+) )?Error: Runtime exited with error: ([^\n]*)")
_EXIT_STATUS = re.compile(r"exit status (\d+)")
_MONITORING = re.compile(r"MONITORING\|(\d+(?:\.\d+)?)\|([-+]?[\d.]+(?:[eE][-+]?\d+)?)\|([^|]*)\|([^|\s]+)")
_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Timeout|Interrupt)\w*): ?(.*)")
_PLATFORM_WORDS = ("EXTENSION", "TELEMETRY", "LOGS", "INIT_REPORT", "INIT_RUNTIME_DONE", "RESTORE_START",
                   "RESTORE_REPORT", "RESTORE_RUNTIME_DONE")

# REPORT "Key: value" -> field under ``lambda`` (values end in " ms" or " MB").
_REPORT_NUMBERS = {
    "Duration": "duration_ms", "Billed Duration": "billed_duration_ms", "Memory Size": "memory_size_mb",
    "Max Memory Used": "max_memory_used_mb", "Init Duration": "init_duration_ms",
    "Restore Duration": "restore_duration_ms", "Billed Restore Duration": "billed_restore_duration_ms",
}
# platform.report record.metrics -> the same fields.
_JSON_REPORT_NUMBERS = {
    "durationMs": "duration_ms", "billedDurationMs": "billed_duration_ms", "memorySizeMB": "memory_size_mb",
    "maxMemoryUsedMB": "max_memory_used_mb", "initDurationMs": "init_duration_ms",
    "restoreDurationMs": "restore_duration_ms", "billedRestoreDurationMs": "billed_restore_duration_ms",
}


# What one line may add under ``correlation`` (configured keys first, then ``x-correlation-*`` in line order):
# a line with thousands of keys cannot spend an index's field budget; every key stays searchable in ``json``.
MAX_CORRELATION_KEYS = 16


class LineParser:
    """Parses lines with a fixed configuration (correlation keys); build once per cold start."""

    def __init__(self, correlation_keys: Iterable[str] = ("correlation_id", "correlationId")) -> None:
        self._correlation_keys = tuple(dict.fromkeys(correlation_keys))

    def parse(self, line: str) -> tuple[str, Fields]:
        """Return ``(message, fields)``; ``message`` is the text a user reads, without the trailing newline.

        >>> LineParser().parse("[INFO]\\t2025-11-22T10:00:00.151Z\\tabc-1\\tReceived order\\n")[1]["log"]
        {'level': 'INFO'}
        """
        text = line.rstrip("\r\n")
        first = text[:1]
        if first == "{":
            return self._json_line(text, text)
        if first == "[":
            return self._python_line(text)
        if first.isdigit():
            return self._digit_line(text)
        if first.isupper():
            return self._platform_line(text)
        return text, {}

    # -- runtime lines ---------------------------------------------------------------------------

    def _python_line(self, text: str) -> tuple[str, Fields]:
        match = _PYTHON.match(text)
        if match:
            level, _ts, request_id, body = match.groups()
            return self._runtime_body(text, body, level, request_id)
        match = _PYTHON_BARE.match(text)
        if match and match[1] in LEVELS:
            return self._runtime_body(text, match[2], match[1], None)
        return text, {}

    def _digit_line(self, text: str) -> tuple[str, Fields]:
        match = _NODE.match(text)
        if match:
            _ts, request_id, level, body = match.groups()
            return self._runtime_body(text, body, level, request_id)
        match = _TIMEOUT.match(text)
        if match:
            fields: Fields = {"event": {"action": "timeout", "outcome": "failure"}, "log": {"level": "ERROR"},
                              "error": {"type": "Timeout", "message": f"Task timed out after {match[2]} seconds"}}
            _execution(fields, match[1])
            return text, fields
        return text, {}

    def _runtime_body(self, text: str, body: str, level: str, request_id: str | None) -> tuple[str, Fields]:
        """The part after the runtime's prefix: plain text, an error, or a JSON object."""
        message, fields = self._json_line(body, text) if body[:1] == "{" else (body, {})
        if body.startswith("MONITORING|"):
            fields.update(_monitoring(body))
        elif "json" not in fields:
            _error_from_text(body, fields)
        fields.setdefault("event", {}).setdefault("original", text)
        normalized = normalize_level(level)
        if normalized:
            fields.setdefault("log", {}).setdefault("level", normalized)
        if request_id and request_id != "undefined":
            fields.setdefault("faas", {}).setdefault("execution", request_id)
        if body.startswith("Invoke Error"):
            _node_invoke_error(body, fields)
        return message, fields

    # -- JSON lines ------------------------------------------------------------------------------

    def _json_line(self, candidate: str, original: str) -> tuple[str, Fields]:
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            return candidate, {}
        if not isinstance(value, dict):
            return candidate, {}  # a list, number or string stays plain text
        if isinstance(value.get("type"), str) and value["type"].startswith("platform.") and "record" in value:
            return _platform_record(value, original)
        fields: Fields = {"json": value, "event": {"original": original}}
        message = _promote(value, fields)
        self._correlate(value, fields)
        return (message if message is not None else candidate), fields

    def _correlate(self, value: dict[str, Any], fields: Fields) -> None:
        found: dict[str, str] = {}
        for key in self._correlation_keys:
            v = value.get(key)
            if isinstance(v, str | int | float) and not isinstance(v, bool) and len(found) < MAX_CORRELATION_KEYS:
                found[key] = str(v)
        for key, v in value.items():
            if key.startswith("x-correlation-") and isinstance(v, str | int | float) and not isinstance(v, bool):
                if len(found) >= MAX_CORRELATION_KEYS:
                    break
                found.setdefault(key, str(v))
        if found:
            fields["correlation"] = found

    # -- platform lines --------------------------------------------------------------------------

    def _platform_line(self, text: str) -> tuple[str, Fields]:
        for prefix, parse in _PLATFORM_PARSERS:
            if text.startswith(prefix):
                return text, parse(text)
        if "Runtime exited with error" in text or (text.startswith("RequestId:") and "Error:" in text):
            return text, _runtime_exit(text)
        word = text.split(None, 1)[0] if text.strip() else ""
        if word in _PLATFORM_WORDS:
            return text, {"event": {"action": word.lower()}}
        return text, {}


def _start_line(text: str) -> Fields:
    match = _START.match(text)
    if not match:
        return {"event": {"action": "start"}}
    faas = {"execution": match[1]} | ({"version": match[2]} if match[2] else {})
    return {"event": {"action": "start"}, "faas": faas}


def _end_line(text: str) -> Fields:
    match = _END.match(text)
    return {"event": {"action": "end"}} | ({"faas": {"execution": match[1]}} if match else {})


def _init_start_line(text: str) -> Fields:
    match = _INIT_START.match(text)
    return {"event": {"action": "init_start"}} | ({"faas": {"runtime": {"version": match[1]}}} if match else {})


# pino and bunyan log numeric levels.
_NUMERIC_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}


def normalize_level(raw: Any) -> str | None:
    """``warning`` -> ``WARN``, ``CRITICAL`` -> ``FATAL``, pino's ``50`` -> ``ERROR``; unknown -> None."""
    if isinstance(raw, str):
        return LEVELS.get(raw.strip().upper())
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _NUMERIC_LEVELS.get(raw)
    return None


def _execution(fields: Fields, request_id: str) -> None:
    fields.setdefault("faas", {})["execution"] = request_id


def _number(raw: str) -> float | int | None:
    raw = raw.strip().split(" ", 1)[0]
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in raw else value


def _report_fields(metrics: dict[str, float | int], request_id: str, fields: Fields) -> Fields:
    """Shared by REPORT lines and platform.report records, so both give identical documents."""
    fields["event"] = {"action": "report", **fields.get("event", {})}
    faas = fields.setdefault("faas", {})
    faas["execution"] = request_id
    faas["coldstart"] = "init_duration_ms" in metrics
    size, used = metrics.get("memory_size_mb"), metrics.get("max_memory_used_mb")
    if size and used is not None:
        metrics["memory_used_ratio"] = round(used / size, 4)
    fields["lambda"] = metrics
    return fields


def _outcome(status: Any, error_type: Any, fields: Fields) -> None:
    if isinstance(status, str) and status.strip():
        status = status.strip().lower()
        error_type = error_type if isinstance(error_type, str) and error_type else None
        fields["event"] = {"outcome": "success" if status == "success" else "failure"}
        if status != "success":
            fields["log"] = {"level": "ERROR"}
            fields["error"] = {"type": error_type or ("Timeout" if status == "timeout" else "Error")}


def _report_line(text: str) -> Fields:
    match = _REPORT.match(text)
    if not match:
        return {"event": {"action": "report"}}
    metrics: dict[str, float | int] = {}
    extra: dict[str, str] = {}
    for key, raw in _PAIR.findall(match[2]):
        key = key.strip()
        name = _REPORT_NUMBERS.get(key)
        if name:
            number = _number(raw)
            if number is not None:
                metrics[name] = number
        else:
            extra[key] = raw.strip()
    fields: Fields = {}
    _outcome(extra.get("Status"), extra.get("Error Type"), fields)
    trace = _XRAY.search(match[2])
    if trace:
        fields["trace"] = {"id": trace[1]}
    return _report_fields(metrics, match[1], fields)


def _platform_record(value: dict[str, Any], original: str) -> tuple[str, Fields]:
    """Lambda's JSON log format platform events (``platform.report``, ``platform.start``, ...)."""
    kind = value["type"][len("platform."):]
    record = value["record"] if isinstance(value["record"], dict) else {}
    request_id = record.get("requestId")
    fields: Fields = {}
    if kind == "report" and isinstance(request_id, str):
        raw = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
        metrics = {name: raw[key] for key, name in _JSON_REPORT_NUMBERS.items()
                   if isinstance(raw.get(key), int | float) and not isinstance(raw.get(key), bool)}
        _outcome(record.get("status"), record.get("errorType"), fields)
        tracing = record.get("tracing")
        if isinstance(tracing, dict) and isinstance(tracing.get("value"), str):
            trace_id = tracing["value"].split(";", 1)[0].removeprefix("Root=")
            fields["trace"] = {"id": trace_id}
        _report_fields(metrics, request_id, fields)
    else:
        action = {"initStart": "init_start", "start": "start", "runtimeDone": "runtime_done"}.get(kind, kind)
        fields["event"] = {"action": action}
        if isinstance(request_id, str):
            _execution(fields, request_id)
        if kind == "start" and isinstance(record.get("version"), str):
            fields.setdefault("faas", {})["version"] = record["version"]
        if kind == "initStart" and isinstance(record.get("runtimeVersion"), str):
            fields["faas"] = {"runtime": {"version": record["runtimeVersion"]}}
        if kind == "runtimeDone" and record.get("status") not in (None, "success"):
            _outcome(record.get("status"), record.get("errorType"), fields)
            fields["event"]["action"] = action
    fields.setdefault("event", {})["original"] = original
    return original, fields


def _runtime_exit(text: str) -> Fields:
    """``Runtime exited with error: signal: killed`` (usually out of memory), ``exit status 1``, ..."""
    match = _EXITED.search(text)
    cause = match[2].strip() if match else text
    fields: Fields = {"event": {"action": "runtime_exit", "outcome": "failure"}, "log": {"level": "ERROR"}}
    status = _EXIT_STATUS.search(cause)
    if "signal: killed" in cause:
        fields["error"] = {"type": "Runtime.OutOfMemory", "message": cause}
    elif status:
        fields["error"] = {"type": "Runtime.ExitError", "message": cause, "code": status[1]}
    else:
        fields["error"] = {"type": "Runtime.ExitError", "message": cause}
    if match and match[1]:
        _execution(fields, match[1])
    return fields


def _monitoring(text: str) -> Fields:
    match = _MONITORING.match(text)
    if not match:
        return {}
    epoch, value, unit, name = match.groups()
    try:
        number, seconds = float(value), float(epoch)
    except ValueError:  # "1.2.3" passes the pattern
        return {}
    if not (math.isfinite(number) and math.isfinite(seconds)):  # 1e999, or 400 digits
        return {}
    return {"event": {"action": "metric"},
            "metric": {"name": name, "value": number, "unit": unit.strip() or "None",
                       "timestamp_ms": int(seconds * 1000)}}


def _error_from_text(body: str, fields: Fields) -> None:
    """Python tracebacks and ``SomeError: message`` first lines become ``error.*``."""
    first, _, rest = body.partition("\n")
    match = _EXCEPTION.match(first)
    traceback_at = body.find("Traceback (most recent call last):")
    if traceback_at >= 0:
        stack = body[traceback_at:]
        last = stack.rstrip().rsplit("\n", 1)[-1]
        tail = _EXCEPTION.match(last)
        error = {"stack_trace": stack}
        if tail:
            error.update(type=tail[1], message=tail[2])
        elif match:
            error.update(type=match[1], message=match[2])
        fields["error"] = error
    elif match and (rest or match[1].endswith(("Error", "Exception"))):
        fields["error"] = {"type": match[1], "message": match[2]}


def _node_invoke_error(body: str, fields: Fields) -> None:
    """Node's ``Invoke Error \\t{"errorType": ..., "errorMessage": ..., "stack": [...]}``."""
    start = body.find("{")
    if start < 0:
        return
    try:
        value = json.loads(body[start:])
    except (ValueError, RecursionError):
        return
    if isinstance(value, dict):
        _promote_error(value, fields)


def _stack(value: Any) -> str | None:
    if isinstance(value, list):
        return "\n".join(str(line) for line in value)
    return value if isinstance(value, str) else None


def _promote_error(value: dict[str, Any], fields: Fields) -> None:
    error_type = value.get("errorType") or value.get("exception_name") or value.get("error_type")
    error_message = value.get("errorMessage") or value.get("error_message")
    stack = _stack(value.get("stackTrace") or value.get("stack") or value.get("exception"))
    if not error_message and isinstance(error_type, str) and isinstance(stack, str):
        last = stack.rstrip().rsplit("\n", 1)[-1]  # Powertools: the traceback ends "Type: message"
        error_message = last.partition(": ")[2] if last.startswith(error_type) else None
    error = {k: v for k, v in (("type", error_type), ("message", error_message), ("stack_trace", stack))
             if isinstance(v, str) and v}
    if error:
        fields["error"] = {**fields.get("error", {}), **error}


def _promote(value: dict[str, Any], fields: Fields) -> str | None:
    """Well-known keys of JSON log records -> ECS fields; returns the record's own message, if any."""
    level = normalize_level(value.get("level") or value.get("levelname") or value.get("severity"))
    if level:
        fields["log"] = {"level": level}
    request_id = value.get("requestId") or value.get("function_request_id") or value.get("request_id")
    if isinstance(request_id, str):
        _execution(fields, request_id)
    if isinstance(value.get("cold_start"), bool):
        fields.setdefault("faas", {})["coldstart"] = value["cold_start"]
    if isinstance(value.get("service"), str):
        fields["service"] = {"name": value["service"]}
    trace = value.get("xray_trace_id") or value.get("traceId")
    if isinstance(trace, str):
        fields["trace"] = {"id": trace}
    _promote_error(value, fields)
    message = value.get("message", value.get("msg"))
    if isinstance(message, str):
        return message
    if message is not None and not isinstance(message, dict | list):
        return str(message)
    return None


_PLATFORM_PARSERS = (("REPORT RequestId:", _report_line), ("START RequestId:", _start_line),
                     ("END RequestId:", _end_line), ("INIT_START", _init_start_line),
                     ("MONITORING|", _monitoring))
