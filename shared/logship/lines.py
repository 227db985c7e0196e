"""One log line -> the fields it carries. Pure functions: no I/O, safe on any input."""

from __future__ import annotations

from typing import Any


def parse_line(line: str) -> tuple[str, dict[str, Any]]:
    """Return the line's searchable ``message`` and the structured fields found in it.

    >>> parse_line("hello\\n")
    ('hello', {})
    """
    return line.rstrip("\r\n"), {}
