"""Replace secrets and personal data in log lines with ``[REDACTED]`` before anything is written.

Redaction runs on the raw line, before parsing, so ``message``, ``event.original`` and every string in
``json`` are covered at once. Built-ins are opt-in; user patterns are plain regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

REDACTED = "[REDACTED]"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match[0])
    return REDACTED if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match[0]


def _keep_prefix(match: re.Match[str]) -> str:
    return match[1] + REDACTED


# name -> (pattern, replacement)
BUILTINS: dict[str, tuple[str, str | Callable[[re.Match[str]], str]]] = {
    "email": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", REDACTED),
    "card": (r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", _card),
    "aws_secret": (r"((?i:aws_?secret_?access_?key|secret_?access_?key|SecretAccessKey)[\"']?\s*[:=]\s*[\"']?)"
                   r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])", _keep_prefix),
    "bearer": (r"((?i:bearer)\s+)[A-Za-z0-9\-._~+/]+=*", _keep_prefix),
}


class Redactor:
    """Applies the configured patterns in order; a no-op (and free) when none are configured."""

    def __init__(self, builtins: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        """``builtins`` are names in :data:`BUILTINS`; both are validated by :mod:`logship.config`."""
        self._rules: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
            (re.compile(BUILTINS[name][0]), BUILTINS[name][1]) for name in builtins]
        self._rules += [(re.compile(pattern), REDACTED) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __call__(self, text: str) -> str:
        for pattern, replacement in self._rules:
            text = pattern.sub(replacement, text)
        return text
