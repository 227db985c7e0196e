"""A line's JSON in a form every cluster indexes under ``json``, decided before sending.

``flat_object`` (OpenSearch) and ``flattened`` (Elasticsearch) index each leaf as one keyword term with its
path (``json._valueAndPath``: ``path=value``; flattened's keyed field: ``key\\0value``), which Lucene refuses
over 32,766 bytes: "Document contains at least one immense term in field=...". Elasticsearch's ``flattened``
also refuses an object nested deeper than its ``depth_limit``, 20: "The provided [flattened] field [json]
exceeds the maximum depth limit of [20]". Either would refuse the whole document, and its retry would lose
every field of the line. So a leaf too long is cut to fit, and what lies deeper is kept as its JSON text;
the line itself stays whole in ``event.original``, and ``logship.reason`` says what was cut.

Only a line long enough or nested enough to break a rule is walked (:func:`may_not_fit`, which the parser asks
first): a leaf's term can pass 32,766 bytes only in a line of more than 8,191 characters (4 bytes a character at
most), and an object nested past the limit needs a ``{`` per level (arrays add no depth to a flattened field).
The usual line costs one count.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_TERM_BYTES = 32_766  # Lucene's IndexWriter.MAX_TERM_LENGTH
MAX_DEPTH = 20  # Elasticsearch's flattened depth_limit, by default; OpenSearch's flat_object has none
_SHORT_LINE = MAX_TERM_BYTES // 4
_PATH_ROOM = len("json._valueAndPath=")  # what flat_object writes besides the path and the value


def may_not_fit(text: str) -> bool:
    """Whether the JSON ``text`` could hold a leaf or a nesting some cluster refuses (else :func:`fit` is a no-op)."""
    return len(text) > _SHORT_LINE or text.count("{") > MAX_DEPTH


def fit(value: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    """``value`` (parsed from ``text``), or a copy every cluster indexes, and what was changed ("" if nothing)."""
    if not may_not_fit(text):
        return value, ""
    changes: list[str] = []
    fitted = _fit(value, "", 1, changes)
    if not changes:
        return value, ""
    shown = ", ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
    return fitted, f"json cut to what the cluster indexes (the whole line is in event.original): {shown}"


def _fit(node: Any, path: str, depth: int, changes: list[str]) -> Any:
    if isinstance(node, dict):
        if depth >= MAX_DEPTH:
            return _as_text(node, path, changes)
        return {key: _fit(child, f"{path}.{key}" if path else str(key), depth + 1, changes)
                for key, child in node.items()}
    if isinstance(node, list):  # its elements are values of the same field, at the same depth
        return [_fit(child, path, depth, changes) for child in node]
    if isinstance(node, str):
        return _cut(node, path, changes)
    return node


def _as_text(node: Any, path: str, changes: list[str]) -> str:
    changes.append(f"{path} deeper than {MAX_DEPTH} levels kept as its JSON text")
    return _cut(orjson.dumps(node).decode(), path, changes)


def _cut(text: str, path: str, changes: list[str]) -> str:
    room = MAX_TERM_BYTES - _PATH_ROOM - len(path.encode())
    if len(text) * 4 <= room:
        return text
    encoded = text.encode(errors="surrogatepass")  # a JSON \ud800 escape leaves a lone surrogate
    if len(encoded) <= room:
        return text
    changes.append(f"{path} ({len(encoded):,} bytes) cut to {max(room, 0):,}")
    return encoded[:max(room, 0)].decode(errors="ignore")
