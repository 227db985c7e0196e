"""Lambda's own lines, in the text format (START, END, REPORT, INIT_REPORT, ...) and as JSON ``platform.*`` records.

Both formats of one record type give the same ``event.action`` (the text format's word in snake_case,
``platform.runtimeDone`` being the JSON format's END), so one query covers functions in either format.
"""

from __future__ import annotations

import re
from typing import Any

from logship.ship.lines.common import Fields, execution, finite_or_marked
from logship.ship.lines.family import DIGITS, UPPER, Family, Lines

_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: (\S+)")
_REPORT = re.compile(r"REPORT RequestId: (\S+)(.*)", re.S)
# "Key: value" whatever separates the pairs (tabs on the wire, spaces in console copies): a key is capitalised
# words, a value one word and maybe its unit.
_PAIR = re.compile(r"([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*): *([^\s]+(?: (?:ms|MB|KB|GB|s)\b)?)")
_XRAY = re.compile(r"XRAY TraceId: (\S+)")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # a number with its thousands grouped: "1,384.56"
_RUNTIME_VERSION = re.compile(r"(INIT_START|RESTORE_START) Runtime Version: (\S+)")
_EXITED = re.compile(r"(?:RequestId: (\S+) )?Error: Runtime exited with error: ([^\n]*)")
# Lambda's record of an invoke or init that failed before the function's code could say why: "RequestId: <id>
# Error: fork/exec /var/task/bootstrap: no such file or directory" and, on the next line of the same event, its
# type ("Runtime.InvalidEntrypoint", "Extension.LaunchError", "Extension.Crash", "Runtime.Unknown").
_FAILED_RECORD = re.compile(r"RequestId: (\S+) Error: ([^\n]*)(?:\n([A-Z]\w*(?:\.\w+)+)\s*)?$")
# EXTENSION/LOGS/TELEMETRY lines: "EXTENSION\tName: x\tState: LaunchError\tEvents: []\tError Type: UnknownError".
_STATE = re.compile(r"\bState: (\w+)")
_ERROR_TYPE = re.compile(r"\bError Type: (\S+)")
_EXIT_STATUS = re.compile(r"exit status (\d+)")
_TIMEOUT = re.compile(r"(?:\S+ )?(\S+) Task timed out after ([\d.]+) seconds")
_UNKNOWN_ERROR = "Unknown application error occurred"
_PLATFORM_WORDS = frozenset(("EXTENSION", "TELEMETRY", "LOGS", "INIT_RUNTIME_DONE", "RESTORE_RUNTIME_DONE"))

# REPORT/INIT_REPORT/RESTORE_REPORT "Key: value" -> field under ``lambda`` (values end in " ms" or " MB").
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
# JSON record types -> the text format's word for them (in snake_case); others get their name in snake_case.
_JSON_ACTIONS = {"initStart": "init_start", "initRuntimeDone": "init_runtime_done", "initReport": "init_report",
                 "start": "start", "runtimeDone": "end", "report": "report", "restoreStart": "restore_start",
                 "restoreRuntimeDone": "restore_runtime_done", "restoreReport": "restore_report",
                 "extension": "extension", "telemetrySubscription": "telemetry", "logsDropped": "logs_dropped"}
# initReport/restoreReport metrics.durationMs is the init (restore) duration, as in INIT_REPORT/RESTORE_REPORT.
_PHASE_DURATION = {"initReport": "init_duration_ms", "restoreReport": "restore_duration_ms"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _invocation_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """START, END or REPORT: most of Lambda's own lines, one each per invocation (offered only lines starting so)."""
    return text, _PARSERS[text[0]](text)


def _phase_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """INIT_START, INIT_REPORT and SnapStart's RESTORE_START, RESTORE_REPORT."""
    return text, (_phase_report_line(text) if "_REPORT" in text[:15] else _runtime_start_line(text))


def _runtime_exit_line(text: str, _lines: Lines) -> tuple[str, Fields] | None:
    """``RequestId: <id> Error: Runtime exited with error: ...`` (the words may stand elsewhere in the line), or
    another failure Lambda records so, with its type on the next line."""
    if RUNTIME_EXITED in text:
        return text, _runtime_exit(text)
    if text.startswith("RequestId:") and "Error:" in text:
        failed = _FAILED_RECORD.match(text.rstrip())
        return text, (_failed_record(failed) if failed else _runtime_exit(text))
    return None


def _failed_record(match: re.Match[str]) -> Fields:
    request_id, message, error_type = match.groups()
    fields: Fields = {"event": {"action": "platform_error", "outcome": "failure"}, "log": {"level": "ERROR"},
                      "error": {"type": error_type or "Runtime.ExitError", "message": message}}
    execution(fields, request_id)
    return fields


def _unknown_error_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """``Unknown application error occurred\nRuntime.Unknown``."""
    first, _, error_type = text.partition("\n")
    return text, {"event": {"action": "platform_error", "outcome": "failure"}, "log": {"level": "ERROR"},
                  "error": {"type": error_type.strip() or "Runtime.Unknown", "message": first}}


def _word_line(text: str, _lines: Lines) -> tuple[str, Fields] | None:
    """``EXTENSION``, ``TELEMETRY``, ``LOGS`` lines and the runtime-done words: the word is the action. An
    extension that could not start (``State: LaunchError``) or any state with an ``Error Type`` is a failure."""
    word = text.split(None, 1)[0]
    if word not in _PLATFORM_WORDS:
        return None
    fields: Fields = {"event": {"action": word.lower()}}
    error_type = _ERROR_TYPE.search(text) if "Error Type:" in text else None
    state = _STATE.search(text) if "Error" in text else None
    if error_type or (state and "Error" in state[1]):
        fields["event"]["outcome"] = "failure"
        fields["log"] = {"level": "ERROR"}
        fields["error"] = {"type": error_type[1] if error_type else f"Extension.{state[1]}"}  # type: ignore[index]
    return text, fields


def _timeout_line(text: str, _lines: Lines) -> tuple[str, Fields] | None:
    """``<time> <request id> Task timed out after 3.00 seconds``."""
    match = _TIMEOUT.match(text) if " Task timed out after " in text else None
    if not match:
        return None
    fields: Fields = {"event": {"action": "timeout", "outcome": "failure"}, "log": {"level": "ERROR"},
                      "error": {"type": "Timeout", "message": f"Task timed out after {match[2]} seconds"}}
    execution(fields, match[1])
    return text, fields


def _start_line(text: str) -> Fields:
    match = _START.match(text)
    if not match:
        return {"event": {"action": "start"}}
    faas = {"execution": match[1]}
    if match[2]:
        faas["version"] = match[2]
    return {"event": {"action": "start"}, "faas": faas}


def _end_line(text: str) -> Fields:
    match = _END.match(text)
    if not match:
        return {"event": {"action": "end"}}
    return {"event": {"action": "end"}, "faas": {"execution": match[1]}}


def _runtime_start_line(text: str) -> Fields:
    """``INIT_START`` and SnapStart's ``RESTORE_START``: ``Runtime Version: python:3.13.v21``."""
    match = _RUNTIME_VERSION.match(text)
    if not match:
        return {"event": {"action": text.split(None, 1)[0].lower()}}
    return {"event": {"action": match[1].lower()}, "faas": {"runtime": {"version": match[2]}}}


def _number(raw: str) -> float | int | None:
    raw = raw.strip().split(" ", 1)[0]
    if "," in raw and _GROUPED.fullmatch(raw):  # "1,384.56": a copy from a page that groups thousands
        raw = raw.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in raw else finite_or_marked(value)  # "nan", "1e999"


def _pairs(text: str) -> tuple[dict[str, float | int], dict[str, str]]:
    """``Key: value`` pairs of a report line: the numbers under their ``lambda`` names, and the rest (with every
    key, a number's too, so a value that is no number still says the key was there)."""
    metrics: dict[str, float | int] = {}
    extra: dict[str, str] = {}
    for key, raw in _PAIR.findall(text):
        key = key.strip()
        name = _REPORT_NUMBERS.get(key)
        if name:
            number = _number(raw)
            if number is not None:
                metrics[name] = number
        extra[key] = raw.strip()
    return metrics, extra


def _report_fields(metrics: dict[str, float | int], request_id: str, fields: Fields, cold: bool) -> Fields:
    """Shared by REPORT lines and platform.report records, so both give identical documents. ``cold``: the
    report has an init or a SnapStart restore duration (even one that is no number): the invoke had a new
    execution environment."""
    fields["event"] = {"action": "report", **fields.get("event", {})}
    faas = fields.setdefault("faas", {})
    faas["execution"] = request_id
    faas["coldstart"] = cold
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


# The REPORT line as Lambda writes it nearly always (a cold start adds Init Duration, tracing the XRAY line):
# read in one match, the same fields as the general reading below.
_USUAL_REPORT = re.compile(
    r"REPORT RequestId: (\S+)\tDuration: (\d{1,15}(?:\.\d{1,15})?) ms\tBilled Duration: (\d{1,15}) ms\t"
    r"Memory Size: (\d{1,15}) MB\tMax Memory Used: (\d{1,15}) MB\t(?:Init Duration: (\d{1,15}(?:\.\d{1,15})?) ms\t)?"
    r"(?:\nXRAY TraceId: (\S+)\tSegmentId: [^\t\n]*\tSampled: [^\t\n]*\t?)?")


def _decimal(raw: str) -> float | int:
    return float(raw) if "." in raw else int(raw)  # as _number reads up to 15 digits


def _usual_report(match: re.Match[str]) -> Fields:
    request_id, duration, billed, size, used, init, trace = match.groups()
    metrics = {"duration_ms": _decimal(duration), "billed_duration_ms": int(billed), "memory_size_mb": int(size),
               "max_memory_used_mb": int(used)}
    if init is not None:
        metrics["init_duration_ms"] = _decimal(init)
    return _report_fields(metrics, request_id, {"trace": {"id": trace}} if trace else {}, init is not None)


def _report_line(text: str) -> Fields:
    usual = _USUAL_REPORT.fullmatch(text)
    if usual:
        return _usual_report(usual)
    match = _REPORT.match(text)
    if not match:
        return {"event": {"action": "report"}}
    metrics, extra = _pairs(match[2])
    fields: Fields = {}
    _outcome(extra.get("Status"), extra.get("Error Type"), fields)
    trace = _XRAY.search(match[2])
    if trace:
        fields["trace"] = {"id": trace[1]}
    return _report_fields(metrics, match[1], fields, "Init Duration" in extra or "Restore Duration" in extra)


def _phase_report_line(text: str) -> Fields:
    """``INIT_REPORT Init Duration: 150.79 ms\\tPhase: init\\tStatus: error\\tError Type: ...`` (and RESTORE_)."""
    word, _, rest = text.partition(" ")
    metrics, extra = _pairs(rest)
    fields: Fields = {}
    _outcome(extra.get("Status"), extra.get("Error Type"), fields)
    fields["event"] = {"action": word.lower(), **fields.get("event", {})}
    if metrics:
        fields["lambda"] = metrics
    return fields


def platform_record(value: dict[str, Any], original: str) -> Fields:
    """Lambda's JSON log format platform events (``platform.report``, ``platform.start``, ...)."""
    kind = value["type"][len("platform."):]
    record = value["record"] if isinstance(value["record"], dict) else {}
    request_id = record.get("requestId")
    fields: Fields = {}
    metrics = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
    if kind == "report" and isinstance(request_id, str):
        numbers = {name: metrics[key] for key, name in _JSON_REPORT_NUMBERS.items() if _is_number(metrics.get(key))}
        _outcome(record.get("status"), record.get("errorType"), fields)
        _trace(record, fields)
        _report_fields(numbers, request_id, fields, "initDurationMs" in metrics or "restoreDurationMs" in metrics)
        if "memorySizeMB" not in metrics:  # Managed Instances report no billing: no cold start either way
            del fields["faas"]["coldstart"]
    else:
        _outcome(record.get("status") or ("error" if record.get("errorType") else None), record.get("errorType"),
                 fields)  # runtimeDone's success too; an extension's record says only its errorType
        if kind == "logsDropped":  # the runtime wrote lines Lambda could not deliver: someone should look
            fields["log"] = {"level": "WARN"}
        fields["event"] = {"action": _JSON_ACTIONS.get(kind) or _CAMEL.sub("_", kind).lower(),
                           **fields.get("event", {})}
        if isinstance(request_id, str):
            execution(fields, request_id)
        if kind == "start" and isinstance(record.get("version"), str):
            fields.setdefault("faas", {})["version"] = record["version"]
        if kind == "initStart" and isinstance(record.get("runtimeVersion"), str):
            fields["faas"] = {"runtime": {"version": record["runtimeVersion"]}}
        if kind == "initStart" and isinstance(record.get("initializationType"), str):
            fields["lambda"] = {"initialization_type": record["initializationType"]}
        if kind in _PHASE_DURATION and _is_number(metrics.get("durationMs")):
            fields["lambda"] = {_PHASE_DURATION[kind]: metrics["durationMs"]}
        _trace(record, fields)
    fields.setdefault("event", {})["original"] = original
    return fields


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _trace(record: dict[str, Any], fields: Fields) -> None:
    tracing = record.get("tracing")
    if isinstance(tracing, dict) and isinstance(tracing.get("value"), str):
        fields["trace"] = {"id": tracing["value"].split(";", 1)[0].removeprefix("Root=")}


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
        execution(fields, match[1])
    return fields


_PARSERS = {"S": _start_line, "E": _end_line, "R": _report_line}
RUNTIME_EXITED = "Runtime exited with error"

INVOCATION = Family("platform: START, END, REPORT", _invocation_line,
                    starts=("START RequestId:", "END RequestId:", "REPORT RequestId:"))
PHASE = Family("platform: INIT_START, INIT_REPORT, RESTORE_START, RESTORE_REPORT", _phase_line,
               starts=("INIT_START", "RESTORE_START", "INIT_REPORT", "RESTORE_REPORT"))
RUNTIME_EXIT = Family("platform: RequestId: <id> Error: ..., Runtime exited with error", _runtime_exit_line,
                      first=UPPER)
UNKNOWN_ERROR = Family("platform: Unknown application error", _unknown_error_line, starts=(_UNKNOWN_ERROR,))
WORDS = Family("platform: EXTENSION, TELEMETRY, LOGS, ...", _word_line, starts=tuple(_PLATFORM_WORDS))
TIMEOUT = Family("platform: Task timed out", _timeout_line, first=DIGITS)
