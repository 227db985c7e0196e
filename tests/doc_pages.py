"""What the docs promise, read from their pages, so tests and the demo check the words users read."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).parents[1] / "docs"


def section(page: str, heading: str) -> str:
    """The text of ``docs/<page>`` under the heading ``heading``, up to the next heading of its level or higher."""
    text = (DOCS / page).read_text()
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    if match is None:
        raise LookupError(f'docs/{page} has no heading "{heading}"')
    level = len(match[1])
    end = re.search(rf"^#{{1,{level}}} ", text[match.end():], re.M)
    return text[match.end():match.end() + end.start()] if end else text[match.end():]


def example_queries() -> dict[str, str]:
    """The example queries of docs/fields.md, ``- Title: `query``` lines, by title."""
    return dict(re.findall(r"^- ([^:]+): `(.+)`$", section("fields.md", "Example queries"), re.M))
