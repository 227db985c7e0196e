"""PHP on Lambda (Bref, PHP-FPM): FPM's own lines ``[13-Oct-2023 08:01:38] NOTICE: fpm is running, pid 11``, its
workers' output (``WARNING: [pool default] child 14 said into stderr: "..."``, or undecorated as Bref runs it:
``NOTICE: PHP message: PHP Fatal error:  Uncaught Error: ...``), and PHP's own errors (``PHP Warning:  ...``),
whose stack follows one line per event (``Stack trace:``, ``#0 {main}``, ``  thrown in ...``)."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import Family, Lines
from logship.ship.lines.runtime import runtime_body

_FPM_LEVELS = ("DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT")
_DECORATED = re.compile(r"\[\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d(?:\.\d+)?\] "
                        r"(DEBUG|NOTICE|WARNING|ERROR|ALERT): (.*)", re.S)
_CHILD = re.compile(r'\[pool [^\]]*\] child \d+ said into std(?:out|err): "(.*)"$', re.S)
# PHP's error kinds and the level each is: a fatal or parse error stops the script.
_PHP_KINDS = {"Fatal error": "ERROR", "Parse error": "ERROR", "Recoverable fatal error": "ERROR",
              "Warning": "WARN", "Deprecated": "WARN", "Notice": "INFO"}
_PHP_ERROR = re.compile(r"(?:PHP message: )?PHP (Fatal error|Parse error|Recoverable fatal error|Warning|Deprecated|"
                        r"Notice): +(.*)", re.S)
_UNCAUGHT = re.compile(r"Uncaught ([A-Za-z_\\][\w\\]*): (.*)", re.S)
_FRAMES = re.compile(r"#\d+ |Stack trace:$|  thrown in ")


def _decorated_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _DECORATED.match(text)
    if not match:
        return None
    return _fpm(text, match[1], match[2], lines)


def _bare_line(text: str, lines: Lines) -> tuple[str, Fields]:
    level, _, body = text.partition(": ")
    return _fpm(text, level, body, lines)


def _fpm(text: str, level: str, body: str, lines: Lines) -> tuple[str, Fields]:
    """FPM's level is its own (every worker's stderr is a WARNING): a worker's words keep theirs."""
    child = _CHILD.match(body)
    if child:
        message, fields = lines.parse(child[1])
        fields.setdefault("event", {})["original"] = text
        return message, fields
    php = _php_error(text, body) if body.startswith(("PHP ", "PHP message: ")) else None
    if php:
        return php
    message, fields = runtime_body(text, body, level, None, lines)
    fields.setdefault("log", {})["logger"] = "php-fpm"
    return message, fields


def _php_line(text: str, _lines: Lines) -> tuple[str, Fields] | None:
    return _php_error(text, text)


def _php_error(text: str, body: str) -> tuple[str, Fields] | None:
    match = _PHP_ERROR.match(body)
    if not match:
        return None
    kind, rest = match.groups()
    uncaught = _UNCAUGHT.match(rest)
    error = {"type": uncaught[1], "message": uncaught[2]} if uncaught else {"type": f"PHP {kind}", "message": rest}
    fields: Fields = {"log": {"level": _PHP_KINDS[kind]}, "event": {"original": text}}
    if _PHP_KINDS[kind] == "ERROR":
        fields["error"] = error
    return rest, fields


FPM = Family("PHP-FPM: [<date>] LEVEL: ...", _decorated_line, first="[", frames=_FRAMES)
FPM_UNDECORATED = Family("PHP-FPM undecorated (Bref): LEVEL: ...", _bare_line,
                         starts=tuple(f"{level}: " for level in _FPM_LEVELS))
PHP_ERROR = Family("PHP: PHP Fatal error:  ...", _php_line, starts=("PHP ",))
