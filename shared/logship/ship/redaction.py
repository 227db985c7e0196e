"""Replace secrets and personal data in log lines with ``[REDACTED]`` before anything is written.

Redaction runs on the raw line, before parsing, so ``message``, ``event.original`` and every string in
``json`` are covered at once. Built-ins are opt-in; user patterns are plain regular expressions.

Cheap on the hot path: each built-in has words (or a character) its secrets must contain; one screen finds
which of them a line holds, and only a line that has one runs the rules whose words it has, so a line without
secrets costs that screen, not one regular expression per rule. The screen first looks for each word's rarest
letter (a single-character search, the fastest CPython has) and searches for the word only if it is there.
Hex identifiers (X-Ray trace ids, request ids) are never touched: a card number stands apart from letters and digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from logship.core.config import DEFAULT_REDACT_KEYS as DEFAULT_KEYS

REDACTED = "[REDACTED]"
# Words one of which every default key name contains: a line without any of them (most) is done in 7 searches.
DEFAULT_KEY_WORDS = ("pass", "secret", "token", "authorization", "key", "credential", "cookie")  # longer: faster


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


# A run of 13 to 19 digits, single spaces or dashes between them, apart from letters and digits on both sides
# (hex identifiers hold such runs between their letters).
_CARD_CANDIDATE = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_THIRTEEN_DIGITS = b"0" * 13


# Letters from the commonest in English text to the rarest (the order of the usual frequency tables).
_LETTERS_BY_FREQUENCY = "etaoinshrdlcumwfgypbvkjxqz"


def _sentinel(word: str) -> str:
    """The character of ``word`` least likely in a log line (a letter rarer in English; any other character
    counts as common): a one-character search for it is much faster than a search for the word."""
    return max(word, key=lambda char: _LETTERS_BY_FREQUENCY.find(char.lower()))


def _has_long_number(line: str) -> bool:
    """13 digits in a row once spaces and dashes are taken out: a line without them holds no card number."""
    return line.encode(errors="surrogatepass").translate(_CARD_CANDIDATE, b" -").find(_THIRTEEN_DIGITS) >= 0


Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Rule:
    """A built-in: its pattern, its replacement, and the words one of which a line must contain before the
    pattern runs (a word in lower case in the line in lower case, any other as it is: the pattern's own case);
    no words: 13 digits in a row (:func:`_has_long_number`)."""

    pattern: str
    replacement: Replacement
    words: tuple[str, ...]


# A rule for every name of REDACT_BUILTINS (logship.core.config), in the order they run (after ``keys``: a
# secret named by its key goes whole, before the patterns that would see part of it). ``keys`` is a
# :class:`KeyRule`: its names are configured.
KEYS = "keys"
BUILTINS: dict[str, Rule | None] = {
    KEYS: None,
    "aws_secret": Rule(r"((?i:aws_?secret_?access_?key|secret_?access_?key|SecretAccessKey)[\"']?\s*[:=]\s*[\"']?)"
                       r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])", _keep_prefix, ("secret",)),
    "basic_auth": Rule(r"((?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:basic)\s+)[A-Za-z0-9+/]+=*", _keep_prefix,
                       ("authorization",)),
    "bearer": Rule(r"((?i:bearer)\s+)[A-Za-z0-9\-._~+/]+=*", _keep_prefix, ("bearer",)),
    "jwt": Rule(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*", REDACTED, ("eyJ",)),
    "aws_key_id": Rule(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", REDACTED, ("AKIA", "ASIA")),
    "email": Rule(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", REDACTED, ("@",)),
    # A digit first (the engine skips to digits), then the checks the old form made before it: not after a letter,
    # digit or dash, and 12 more digits or separators ahead (a short run fails at once, without backtracking).
    "card": Rule(r"\d(?<![\w-]\d)(?=[\d -]{12})(?:[ -]?\d){12,18}(?![\w-])", _card, ()),
}


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_JSON_VALUE = re.compile(r'"\s*:\s*"((?:[^"\\]|\\.)*)"')  # after the key's name: "password": "x"
_ESCAPED_VALUE = re.compile(r'\\"\s*:\s*\\"((?:[^"\\]|\\[^"])*)\\"')  # JSON in a JSON string: \"password\": \"x\"
_PAIR_VALUE = re.compile(r'=("[^"]*"|[^\s&,;"\']+)')  # password=x


class KeyRule:
    """The ``keys`` built-in: string values of JSON keys (also of JSON escaped inside a string) and ``name=value``
    values, for every key whose name contains one of ``keys``, in any case.

    It looks for the names' words in the line in lower case (``str.find``), then at what surrounds each: a
    word in prose costs a look, not a pattern over the whole line. Lower case keeps every character's place
    (checked: a character whose lower case is longer, as "İ", is left as it is).
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self._names = tuple(dict.fromkeys(key.lower() for key in keys))
        self._shortest = min(map(len, self._names))  # a shorter name around a word is none of them ("key" alone)
        # The words a line must contain for this rule to look: every name holds one of them.
        self.words = DEFAULT_KEY_WORDS if set(self._names) == set(DEFAULT_KEYS) else tuple(
            name for name in self._names if not any(other in name for other in self._names if other != name))

    def __call__(self, text: str, low: str, found: frozenset[str]) -> str:
        """``found``: the words the line contains (the others need no look)."""
        if len(low) != len(text):  # a character whose lower case is longer ("İ"): the others' places kept
            low = "".join(char if len(char.lower()) > 1 else char.lower() for char in text)
        spans = sorted({span for word in self.words if word in found for span in self._values(low, word)})
        parts, done = [], 0
        for start, end in spans:
            if start >= done:  # two names around one value: once
                parts += (text[done:start], REDACTED)
                done = end
        return "".join((*parts, text[done:])) if parts else text

    def _values(self, low: str, word: str) -> Iterator[tuple[int, int]]:
        """Where the values of the keys containing ``word`` are in ``low``."""
        at = low.find(word)
        while at >= 0:
            start, end = at, at + len(word)
            while start and low[start - 1] in _NAME_CHARS:
                start -= 1
            while end < len(low) and low[end] in _NAME_CHARS:
                end += 1
            if end - start >= self._shortest and any(name in low[start:end] for name in self._names):
                value = self._value(low, start, end)
                if value:
                    yield value
            at = low.find(word, end)

    @staticmethod
    def _value(low: str, start: int, end: int) -> tuple[int, int] | None:
        before = low[max(0, start - 2):start]
        if before.endswith('"'):
            match = (_ESCAPED_VALUE if before == '\\"' else _JSON_VALUE).match(low, end)
        else:
            match = _PAIR_VALUE.match(low, end)
        return match.span(1) if match else None


class Redactor:
    """Applies the configured rules in order; a no-op (and free) when none are configured.

    One screen decides for a line which of the chosen built-ins' words it contains (and, with ``card``, whether
    it has 13 digits in a row). A line with none, most lines, is done; a line with some runs
    the rules whose words it has, told which words they are. Your own patterns run on every line.
    """

    def __init__(self, builtins: Iterable[str] = (), patterns: Iterable[str] = (),
                 keys: Iterable[str] = DEFAULT_KEYS) -> None:
        """``builtins`` are names in :data:`BUILTINS`, ``keys`` the key names of the ``keys`` built-in; all are
        validated by :mod:`logship.core.config`."""
        chosen = set(builtins)
        # (words, redact(text, low, found) -> text) in BUILTINS' order; no words: the line's digits decide.
        self._rules: list[tuple[frozenset[str], Callable[[str, str, frozenset[str]], str]]] = []
        for name, rule in BUILTINS.items():
            if name not in chosen:
                continue
            if rule is None:
                key_rule = KeyRule(keys)
                self._rules.append((frozenset(key_rule.words), key_rule))
            else:
                self._rules.append((frozenset(rule.words), _substitute(re.compile(rule.pattern), rule.replacement)))
        words = dict.fromkeys(word for words, _redact in self._rules for word in sorted(words))
        # (word, its sentinel): looked for in the line in lower case, or as it is (a word not in lower case).
        self._lower = tuple((word, _sentinel(word)) for word in words if word == word.lower())
        self._exact = tuple((word, _sentinel(word)) for word in words if word != word.lower())
        self._numbers = "card" in chosen
        self._patterns = [re.compile(pattern) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self._rules or self._patterns)

    def __call__(self, text: str) -> str:
        if self._rules:
            low = text.lower()
            seen = [word for word, sentinel in self._lower if sentinel in low and word in low]
            seen += [word for word, sentinel in self._exact if sentinel in text and word in text]
            numbers = self._numbers and _has_long_number(text)
            if seen or numbers:
                found = frozenset(seen)
                for words, redact in self._rules:
                    if not found.isdisjoint(words) if words else numbers:
                        text = redact(text, low, found)  # ``low`` may be stale now: it has more words, not fewer
        for pattern in self._patterns:  # a user's pattern has no words to look for: it always runs
            text = pattern.sub(REDACTED, text)
        return text


def _substitute(pattern: re.Pattern[str], replacement: Replacement) -> Callable[[str, str, frozenset[str]], str]:
    return lambda text, _low, _found: pattern.sub(replacement, text)
