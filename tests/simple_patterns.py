"""Index patterns as OpenSearch and Elasticsearch read them (``Regex.simpleMatch``: ``*`` is the only wildcard),
for the stand-ins: whether a name matches, and whether two patterns overlap, which both engines decide by
intersecting the patterns' automata (``Operations.intersection`` of ``Regex.simpleMatchToAutomaton``:
MetadataIndexTemplateService for templates, index-management's ISMTemplateService for ISM templates)."""

from __future__ import annotations

import re
from functools import lru_cache


def simple_match(pattern: str, name: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), name) is not None


@lru_cache(maxsize=4096)
def intersect(p: str, q: str) -> bool:
    """Whether some name matches both patterns."""
    if not p or not q:
        return p.strip("*") == q.strip("*") == ""
    if p[0] == "*":
        return intersect(p[1:], q) or intersect(p, q[1:])
    if q[0] == "*":
        return intersect(p, q[1:]) or intersect(p[1:], q)
    return p[0] == q[0] and intersect(p[1:], q[1:])


def overlap(patterns: list[str], others: list[str]) -> bool:
    return any(intersect(a, b) for a in patterns for b in others)
