"""The lock files: every package pinned with hashes, and the tests run the very versions Lambda gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LOCKS = ("shared/requirements.txt", "requirements-dev.txt", "requirements-checkov.txt")
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^ ;\\]+)", re.M)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {name.lower().replace("_", "-"): version for name, _extras, version in _PIN.findall(text)}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_is_pinned_with_a_hash(lock):
    entries = [e for e in re.split(r"\n(?=\S)", (ROOT / lock).read_text()) if e.strip() and not e.startswith("#")]

    assert entries
    assert all(_PIN.match(entry) and "--hash=sha256:" in entry for entry in entries), lock


def test_tests_run_the_layers_own_versions():
    layer, dev = pins("shared/requirements.txt"), pins("requirements-dev.txt")

    assert "opensearch-py" in layer
    assert {name: dev.get(name) for name in layer} == layer
