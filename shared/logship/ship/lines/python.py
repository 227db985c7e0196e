"""Python runtime lines: ``[LEVEL]\\t<time>\\t<request id>\\t<message>`` (empty request id during init), bare
``[ERROR] Type: message`` uncaught errors, and the python2.7/3.6 runtimes' own lines and uncaught errors."""

from __future__ import annotations

import re

from logship.ship.lines.common import LEVELS, Fields, error_from_text, execution, loads_json, promote_error
from logship.ship.lines.family import ANY, DIGITS, Family, Lines
from logship.ship.lines.runtime import runtime_body

_PYTHON = re.compile(r"\[([A-Za-z]+)\]\t(\S+)\t(\S*)\t(.*)", re.S)
_PYTHON_BARE = re.compile(r"\[([A-Z]+)\]\s+(.*)", re.S)  # uncaught exceptions: "[ERROR] ValueError: ..."
# python3.6's bootstrap: "26 Jan 2022 09:05:13,763 [INFO] (/var/runtime/bootstrap.py) main started at epoch ..."
_BOOTSTRAP = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d,\d{3} \[([A-Z]+)\] (.*)", re.S)
# The older runtimes' uncaught errors, in one event: "<message>: <Type>" then the stack (python2.7/3.6's
# traceback, java8's "Type: message" and frames, .NET Core 2.1/3.1's "   at ..." frames).
_OLD_UNCAUGHT = re.compile(r"([^\n]*?): ([A-Za-z_][\w.$]*(?:Error|Exception|Exit|Interrupt|Timeout|Throwable)\w*)\n"
                           r"\s*((?:Traceback \(most recent call last\):|[A-Za-z_][\w.$]*: |at ).*)", re.S)
_ERROR_LEVELS = frozenset(("ERROR", "CRITICAL"))
# "Unable to import module 'lambda_function': No module named 'x'": python2.7/3.6 and old Node runtimes.
IMPORT_ERROR = "Unable to import module "
# python3.12 and later say this, at WARNING, just before the unhandled exception's own event ("[ERROR] Type:
# message\rTraceback ..." in the text format, {"log_level": "ERROR", "errorType": ...} in JSON): one error.
UNHANDLED = "LAMBDA_WARNING: Unhandled exception."
# Lines of a traceback printed one event per line (traceback.print_exc, print(...)).
CONTINUATION = ("  File \"", "    ", "During handling of the above exception", "The above exception was the direct")


def _bracket_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _PYTHON.match(text)
    if match:
        level, _ts, request_id, body = match.groups()
        if level == "WARNING" and body.startswith(UNHANDLED):
            return body, unhandled(body, text, request_id)
        message, fields = runtime_body(text, body, level, request_id, lines)
        if level in _ERROR_LEVELS and "\r" in body and "error" not in fields:  # logger.exception(): "\r"-joined
            error_from_text(body.replace("\r", "\n"), fields)
        return message, fields
    match = _PYTHON_BARE.match(text)
    if match and match[1] in LEVELS:  # the runtime's own report of an unhandled exception, lines "\r"-joined
        return runtime_body(text, match[2].replace("\r", "\n"), match[1], None, lines)
    return None


def unhandled(text: str, original: str | None = None, request_id: str | None = None) -> Fields:
    """The runtime's hint after an unhandled exception: an error, whose type, message and stack are in the next
    event (the stack joiner copies them here) or after the hint in this one (a console copy, a paste).
    ``original`` is the whole line when ``text`` is the part after the runtime's prefix."""
    fields: Fields = {"log": {"level": "ERROR"}}
    if original is not None:
        fields["event"] = {"original": original}
    if request_id:
        execution(fields, request_id)
    _hint, separator, rest = text.replace("\r", "\n").partition("\n")
    rest = rest.strip()
    if separator and rest.startswith("{"):
        try:
            record = loads_json(rest)
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, dict):
            promote_error(record, fields)
            if isinstance(record.get("requestId"), str) and record["requestId"]:
                execution(fields, record["requestId"])
    elif separator:
        error_from_text(rest.removeprefix("[ERROR]").lstrip(), fields)
    return fields


def _bootstrap_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _BOOTSTRAP.match(text) if text[2:3] == " " or text[1:2] == " " else None  # "26 Jan", "6 Jan"
    if not match:
        return None
    return runtime_body(text, match[2], match[1], None, lines)


def _old_uncaught_line(text: str, _lines: Lines) -> tuple[str, Fields] | None:
    """python2.7/3.6's (java8's, .NET Core's) uncaught error in one event: ``<message>: <Type>`` then its stack."""
    match = _OLD_UNCAUGHT.match(text) if "\n" in text else None
    if not match:
        return None
    return text, {"log": {"level": "ERROR"}, "error": {"type": match[2], "message": match[1], "stack_trace": match[3]}}


def _import_error_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """The same ``error.type`` the current runtimes give (``[ERROR] Runtime.ImportModuleError: ...``)."""
    return text, {"log": {"level": "ERROR"}, "error": {"type": "Runtime.ImportModuleError", "message": text}}


def _unhandled_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    return text, unhandled(text)


BRACKETED = Family("Python: [LEVEL]\\t<time>\\t<request id>\\t...", _bracket_line, first="[",
                   continues=CONTINUATION)
UNHANDLED_HINT = Family("Python: LAMBDA_WARNING: Unhandled exception.", _unhandled_line, starts=(UNHANDLED,))
IMPORT_ERROR_LINE = Family("python2.7/3.6, old Node: Unable to import module", _import_error_line,
                           starts=(IMPORT_ERROR,))
BOOTSTRAP = Family("python3.6: its bootstrap's lines", _bootstrap_line, first=DIGITS)
OLD_UNCAUGHT = Family("python2.7/3.6, java8, .NET Core: an uncaught error in one event", _old_uncaught_line, first=ANY)
