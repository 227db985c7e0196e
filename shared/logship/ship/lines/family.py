"""What a line family is to the parser: how its lines start, and one reader with one signature.

A family's module defines its :class:`Family` values; ``table.FAMILIES`` lists them in the order they are tried.
The parser offers a line to the families that may read a line starting with its first character (those whose
``starts`` begin with it, or whose ``first`` holds it), in table order, until one reads it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from logship.ship.lines.common import Fields


class Lines(Protocol):
    """What a reader may ask of the parser: a JSON object's reading, and a whole line's (for a line it unwraps)."""

    def json(self, candidate: str, original: str) -> tuple[str, Fields]:
        """``candidate``, a JSON object's text found in the line ``original``: its message and fields."""
        ...

    def parse(self, line: str) -> tuple[str, Fields]:
        ...


Reader = Callable[[str, Lines], "tuple[str, Fields] | None"]

DIGITS = string.digits
UPPER = string.ascii_uppercase
HEX = string.digits + "abcdef"
# Every first character but those of lines a family always reads ("{", "\x1b") or never leaves to the exception
# reader ("["); a family with ``first=ANY`` is also offered lines starting past ASCII.
ANY = "".join(chr(code) for code in range(128) if chr(code) not in "{[\x1b")


@dataclass(frozen=True, slots=True)
class Family:
    """``read(text, lines)`` returns ``(message, fields)``, or None when the line is not the family's (the next
    family is tried). ``starts``: what its lines start with (checked before ``read`` is called); ``first``: the
    characters its lines may start with when no fixed text tells (``read`` screens those itself, cheaply first).
    ``continues`` and ``frames``: how the lines of its stack traces printed one event per line start or look,
    for the stack joiner."""

    name: str
    read: Reader
    starts: tuple[str, ...] = ()
    first: str = ""
    continues: tuple[str, ...] = ()
    frames: re.Pattern[str] | None = None

    def offered(self, character: str) -> tuple[str, ...] | None:
        """For lines starting with ``character``: the starts to check (``()``: none), or None if never offered."""
        if character in self.first:
            return ()
        own = tuple(start for start in self.starts if start.startswith(character))
        return own or None
