"""Python runtime lines: ``[LEVEL]\\t<time>\\t<request id>\\t<message>`` (empty request id during init), bare
``[ERROR] Type: message`` uncaught errors, and the python2.7/3.6 runtimes' own lines and uncaught errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from logship.ship.lines.common import LEVELS, Fields
from logship.ship.lines.runtime import runtime_body

if TYPE_CHECKING:
    from logship.ship.lines.json_lines import JsonLines

_PYTHON = re.compile(r"\[([A-Za-z]+)\]\t(\S+)\t(\S*)\t(.*)", re.S)
_PYTHON_BARE = re.compile(r"\[([A-Z]+)\]\s+(.*)", re.S)  # uncaught exceptions: "[ERROR] ValueError: ..."
# python3.6's bootstrap: "26 Jan 2022 09:05:13,763 [INFO] (/var/runtime/bootstrap.py) main started at epoch ..."
_BOOTSTRAP = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d,\d{3} \[([A-Z]+)\] (.*)", re.S)
# The older runtimes' uncaught errors, in one event: "<message>: <Type>" then the stack (python2.7/3.6's
# traceback, java8's "Type: message" and frames, .NET Core 2.1/3.1's "   at ..." frames).
_OLD_UNCAUGHT = re.compile(r"([^\n]*?): ([A-Za-z_][\w.$]*(?:Error|Exception|Exit|Interrupt|Timeout|Throwable)\w*)\n"
                           r"\s*((?:Traceback \(most recent call last\):|[A-Za-z_][\w.$]*: |at ).*)", re.S)
TRACEBACK = "Traceback (most recent call last):"
# "Unable to import module 'lambda_function': No module named 'x'": python2.7/3.6 and old Node runtimes.
IMPORT_ERROR = "Unable to import module "
# Lines of a traceback printed one event per line (traceback.print_exc, print(...)).
CONTINUATION = ("  File \"", "    ", "During handling of the above exception", "The above exception was the direct")


def bracket_line(text: str, json_lines: JsonLines) -> tuple[str, Fields]:
    match = _PYTHON.match(text)
    if match:
        level, _ts, request_id, body = match.groups()
        return runtime_body(text, body, level, request_id, json_lines)
    match = _PYTHON_BARE.match(text)
    if match and match[1] in LEVELS:
        return runtime_body(text, match[2], match[1], None, json_lines)
    return text, {}


def bootstrap_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    match = _BOOTSTRAP.match(text)
    if not match:
        return None
    return runtime_body(text, match[2], match[1], None, json_lines)


def old_uncaught(text: str) -> Fields | None:
    match = _OLD_UNCAUGHT.match(text)
    if not match:
        return None
    return {"log": {"level": "ERROR"},
            "error": {"type": match[2], "message": match[1], "stack_trace": match[3]}}


def import_error(text: str) -> Fields:
    """The same ``error.type`` the current runtimes give (``[ERROR] Runtime.ImportModuleError: ...``)."""
    return {"log": {"level": "ERROR"}, "error": {"type": "Runtime.ImportModuleError", "message": text}}
