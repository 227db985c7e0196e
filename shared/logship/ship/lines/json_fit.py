"""A line's JSON in a form every cluster indexes under ``json``, decided before sending.

``flat_object`` (OpenSearch) and ``flattened`` (Elasticsearch) index each leaf as one keyword term with its
path (flat_object's ``json._valueAndPath``: ``json.<path>=<value>``; flattened's keyed field:
``<path>\\0<value>``), which Lucene refuses over 32,766 bytes: "Document contains at least one immense term in
field=...". Elasticsearch's ``flattened`` also refuses a key whose path is ``depth_limit`` (20) keys long
(``FlattenedFieldParser``: ``path.length() + 1 > depthLimit``): "The provided [flattened] field [json] exceeds
the maximum depth limit of [20]". Either would refuse the whole document, and its retry would lose
every field of the line. So a leaf too long is cut to fit, and what lies deeper is kept as its JSON text;
the line itself stays whole in ``event.original``, and ``logship.reason`` says what was cut.

Only a line long enough or nested enough to break a rule is walked (:func:`may_not_fit`, which the JSON
parser asks first, written out in its loop): a leaf's term can pass 32,766 bytes only in a line of more than
8,191 characters (4 bytes a character at most), and a key 20 keys deep needs 20 ``{`` (the line's own included;
arrays add no depth to a flattened field). The usual line costs one count.
"""

from __future__ import annotations

import json
from typing import Any

MAX_TERM_BYTES = 32_766  # Lucene's IndexWriter.MAX_TERM_LENGTH
MAX_DEPTH = 20  # Elasticsearch's flattened depth_limit, by default; OpenSearch's flat_object has none
SHORT_LINE = MAX_TERM_BYTES // 4
TOO_DEEP = "(nested too deep to write out: see event.original)"
_PATH_ROOM = len("json.=")  # what flat_object's term holds besides the path and the value


def may_not_fit(text: str) -> bool:
    """Whether the JSON ``text`` could hold a leaf or a nesting some cluster refuses (else :func:`fit` is a no-op)."""
    return len(text) > SHORT_LINE or text.count("{") >= MAX_DEPTH


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
    """``depth``: how many keys long the paths of ``node``'s own keys are (1 at the line's object)."""
    if isinstance(node, dict):
        if depth >= MAX_DEPTH:  # its keys would be 20 keys deep: the object becomes a leaf, 19 keys deep
            return _as_text(node, path, changes)
        return {key: _fit(child, f"{path}.{key}" if path else str(key), depth + 1, changes)
                for key, child in node.items()}
    if isinstance(node, list):  # its elements are values of the same field, at the same depth
        return [_fit(child, path, depth, changes) for child in node]
    if isinstance(node, str):
        return _cut(node, path, changes)
    return node


def _as_text(node: Any, path: str, changes: list[str]) -> str:
    try:  # the stdlib writes whatever the line's parser read (NaN, integers past 64 bits, lone surrogates)...
        text = json.dumps(node, ensure_ascii=False)
    except RecursionError:  # ...but not an object nested about a thousand deep: that part stays in the original
        changes.append(f"{path} nested too deep to write out (it is in event.original)")
        return TOO_DEEP
    changes.append(f"{path} nested past {MAX_DEPTH - 1} keys kept as its JSON text")
    return _cut(text, path, changes)


def _cut(text: str, path: str, changes: list[str]) -> str:
    room = max(MAX_TERM_BYTES - _PATH_ROOM - len(path.encode(errors="surrogatepass")), 0)
    if len(text) * 4 <= room:
        return text
    size = _utf8_size(text)
    if size <= room:
        return text
    changes.append(f"{path} ({size:,} bytes) cut to {room:,}")
    return cut_to_bytes(text, room)


def fit_text(text: str, field: str) -> str:
    """One value of another flat_object/flattened field (``correlation.<key>``), cut to the term limit like json's."""
    if len(text) <= SHORT_LINE:
        return text
    return cut_to_bytes(text, max(MAX_TERM_BYTES - len(f"{field}=".encode(errors="surrogatepass")), 0))


def _utf8_size(text: str) -> int:
    return len(text.encode(errors="surrogatepass"))  # a JSON \ud800 escape leaves a lone surrogate: 3 bytes


def cut_to_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 is at most ``limit`` bytes, cut between characters."""
    keep = min(len(text), limit)
    while (size := _utf8_size(text[:keep])) > limit:
        keep -= max(1, (size - limit + 3) // 4)
    return text[:keep]
