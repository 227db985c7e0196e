"""What the README promises, read from it, so tests and the demo check the words users read."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def example_queries() -> dict[str, str]:
    """The README's example queries, ``- Title: `query``` lines under "Example queries", by title."""
    section = README.read_text().split("### Example queries", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^- ([^:]+): `(.+)`$", section, re.M))
