"""Events a CloudWatch Logs transformer rewrote, when it kept the line as logged in a key the user names
(TransformedOriginalKey): read as that line, with the transformer's other keys under ``json``.

A transformed event is a JSON object (its keys at the root) and the line as logged is not in the delivery unless
the transformer copied it there itself: a first ``grok`` of ``%{GREEDYDATA:<key>}``, then parsers whose ``source``
is that key. Without a key, or for an event without it (a line the backfill read, which is the original), the
line is parsed as any other.
"""

from __future__ import annotations

import json

from logship.ship.lines import Fields, LineParser


class OriginalInKey:
    """``parse`` as :class:`LineParser`'s, for deliveries of a transformer that keeps the line in ``key``."""

    def __init__(self, parser: LineParser, key: str) -> None:
        self._parse, self._key = parser.parse, key
        self._quoted = json.dumps(key)  # how the key is written in the event's JSON: a cheap screen first

    def parse(self, line: str) -> tuple[str, Fields]:
        """``(message, fields)`` of the line the event kept; of the event itself when it kept none.

        >>> event = '{"raw": "[INFO]\\\\t2025-11-22T10:00:00.151Z\\\\tabc\\\\thi", "status": "OK"}'
        >>> OriginalInKey(LineParser(), "raw").parse(event)[0]
        'hi'
        """
        message, fields = self._parse(line)
        if self._quoted not in line:
            return message, fields
        transformed = fields.get("json")
        original = transformed.get(self._key) if isinstance(transformed, dict) else None
        if not isinstance(original, str):
            return message, fields
        message, own = self._parse(original)
        added = {key: value for key, value in transformed.items() if key != self._key}  # type: ignore[union-attr]
        if added:  # the transformer's keys over the line's own (a JSON line's)
            own["json"] = {**own["json"], **added} if isinstance(own.get("json"), dict) else added
        own["event"] = {**own.get("event", {}), "original": original.rstrip("\r\n")}
        return message, own
