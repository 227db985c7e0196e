"""The README is a short front page and every docs page is one click from it; no link in them is broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """The text of a page without its code, where a ``[x](y)`` is not a link."""
    return CODE.sub("", FENCE.sub("", path.read_text()))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces as hyphens, -1 on repeats."""
    found: set[str] = set()
    repeats: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", path.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(f"{slug}-{repeats[slug]}" if slug in repeats else slug)
        repeats[slug] = repeats.get(slug, 0) + 1
    return found

def test_anchors_follow_githubs_rule(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Private domains (VPC)\n\n## Example queries\n\n## Example queries\n\n```\n# not a heading\n```\n")
    assert anchors(page) == {"private-domains-vpc", "example-queries", "example-queries-1"}


def test_the_readme_is_a_short_front_page():
    assert len(README.read_bytes()) < 12_000
    assert re.findall(r"^make (demo|test) ", README.read_text(), re.M) == ["demo", "test"]


def test_every_docs_page_is_one_click_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in LINK.findall(prose(README))}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.relative_to(ROOT).as_posix())
def test_no_link_is_broken(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: outside the house
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_each_page_starts_with_what_a_reader_comes_for(page):
    title, blank, lead = page.read_text().split("\n")[:3]
    assert (title[:2], blank) == ("# ", "")
    assert lead[:1].isalnum()  # a sentence, not a heading or a table
