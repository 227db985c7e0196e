"""Tab-separated runtime lines ``<ISO time>\\t<request id>\\t<LEVEL>\\t<message>``: Node.js (``undefined`` as the
request id during init; no level before nodejs10.x), .NET (``info``/``fail``/...: see ``dotnet``), and
pino-lambda, which writes the same shape without a request id outside a request."""

from __future__ import annotations

import re

from logship.ship.lines import dotnet
from logship.ship.lines.common import Fields, normalize_level
from logship.ship.lines.family import DIGITS, Family, Lines
from logship.ship.lines.runtime import runtime_body

_ISO_TAB = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+Z)\t(.*)", re.S)
# The common shape in one match: "<time>\t<request id>\t<LEVEL>\t<message>".
_FULL = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z\t([^\t\n]*)\t([A-Za-z]+)\t(.*)", re.S)
_LEVEL = re.compile(r"([A-Za-z]+)[\t\n](.*)", re.S)
# Node's own stack frames, when a stack arrives one event per line.
CONTINUATION = ("    at ",)


def _tab_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    if "Z\t" not in text[:40]:  # a timeout line, or log4j's "<date> <time>": not this shape
        return None
    full = _FULL.match(text)
    if full and normalize_level(full[2]):
        request_id, level, body = full.groups()
        return runtime_body(text, body, level, request_id, lines)
    match = _ISO_TAB.match(text)
    if not match:
        return None
    rest = match[2]
    second, tab, after = rest.partition("\t")
    if not tab:  # "<time>\t<message>"
        return runtime_body(text, rest, None, None, lines)
    if normalize_level(second):  # pino-lambda outside a request: "<time>\t<LEVEL>\t<message>"
        return runtime_body(text, after, second, None, lines)
    level = _LEVEL.match(after)  # the level ends with a tab, or a newline before a pretty-printed record
    if level and normalize_level(level[1]):
        return runtime_body(text, level[2], level[1], second, lines)
    return runtime_body(text, after, None, second, lines)  # nodejs8.10: "<time>\t<request id>\t<message>"


TAB = Family("Node.js, .NET, pino-lambda: <time>\\t<request id>\\t<LEVEL>\\t...", _tab_line, first=DIGITS,
             continues=(*CONTINUATION, *dotnet.CONTINUATION))
