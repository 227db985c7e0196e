"""What OpenSearch's ``flat_object`` and Elasticsearch's ``flattened`` refuse in a document, for the stand-ins
(osmem-server takes any length and depth).

Both index every leaf as a keyword term with its path, and Lucene refuses a term over 32,766 bytes
(``IndexWriter.MAX_TERM_LENGTH``; ``IndexingChain``: "Document contains at least one immense term in
field=...", caused by ``max_bytes_length_exceeded_exception`` "bytes can be at most 32766 in length; got N"):
- flat_object (OpenSearch ``FlatObjectFieldMapper``/``JsonToStringXContentParser``) writes ``<field>._value``
  (the value) and ``<field>._valueAndPath`` (``<field>.<path>=<value>``);
- flattened (Elasticsearch ``FlattenedFieldParser``) writes ``<field>`` (the value) and ``<field>._keyed``
  (``<path>\\0<value>``), and refuses any key, whatever its value, whose path makes ``path.length() + 1 >
  depth_limit`` (20): "The provided [flattened] field [<field>] exceeds the maximum depth limit of [20]."
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_TERM_BYTES = 32_766
FLATTENED_DEPTH_LIMIT = 20


def _keys(value: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any, int]]:
    """(dotted path, its value, how many keys long the path is) for every key, at any depth, arrays included."""
    if isinstance(value, dict):
        for key, child in value.items():
            key_path = f"{path}.{key}" if path else key
            yield key_path, child, depth + 1
            yield from _keys(child, key_path, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _keys(child, path, depth)


def _leaves(value: Any) -> Iterator[tuple[str, str]]:
    """(dotted path, the leaf as the engines index it: text) for every leaf that is not null."""
    for path, child, _depth in _keys(value):
        for leaf in child if isinstance(child, list) else [child]:
            if leaf is not None and not isinstance(leaf, dict | list):
                yield path, leaf if isinstance(leaf, str) else str(leaf).lower() if isinstance(leaf, bool) else str(leaf)


def _immense(field: str, term: bytes) -> dict[str, Any]:
    prefix = list(term[:30])
    reason = (f'Document contains at least one immense term in field="{field}" (whose UTF8 encoding is longer than '
              f"the max length {MAX_TERM_BYTES}), all of which were skipped.  Please correct the analyzer to not "
              f"produce such terms.  The prefix of the first immense term is: '{prefix}...', original message: "
              f"bytes can be at most {MAX_TERM_BYTES} in length; got {len(term)}")
    return {"type": "illegal_argument_exception", "reason": reason,
            "caused_by": {"type": "max_bytes_length_exceeded_exception",
                          "reason": f"bytes can be at most {MAX_TERM_BYTES} in length; got {len(term)}"}}


def flat_object_refusal(field: str, value: Any) -> dict[str, Any] | None:
    """Why OpenSearch refuses ``value`` in the flat_object ``field``, or None."""
    for path, leaf in _leaves(value):
        if len(leaf.encode()) > MAX_TERM_BYTES:
            return _immense(f"{field}._value", leaf.encode())
        with_path = f"{field}.{path}={leaf}".encode()
        if len(with_path) > MAX_TERM_BYTES:
            return _immense(f"{field}._valueAndPath", with_path)
    return None


def flattened_refusal(field: str, value: Any, doc_id: str, document_parsing: bool) -> dict[str, Any] | None:
    """Why Elasticsearch refuses ``value`` in the flattened ``field``, or None. The depth error reaches the client
    wrapped by DocumentParser ("failed to parse field [...] of type [flattened] in document with id ...");
    ``document_parsing``: 8.8 and later name it document_parsing_exception, before mapper_parsing_exception."""
    if any(depth + 1 > FLATTENED_DEPTH_LIMIT for _path, _child, depth in _keys(value)):
        inner = {"type": "illegal_argument_exception", "reason": f"The provided [flattened] field [{field}] "
                 f"exceeds the maximum depth limit of [{FLATTENED_DEPTH_LIMIT}]."}
        return {"type": "document_parsing_exception" if document_parsing else "mapper_parsing_exception",
                "reason": f"failed to parse field [{field}] of type [flattened] in document with id '{doc_id}'.",
                "caused_by": inner}
    for path, leaf in _leaves(value):
        if len(leaf.encode()) > MAX_TERM_BYTES:
            return _immense(field, leaf.encode())
        keyed = f"{path}\0{leaf}".encode()
        if len(keyed) > MAX_TERM_BYTES:
            return _immense(f"{field}._keyed", keyed)
    return None
