"""Nothing that parsed before issue 10 parses worse: every fixture line, old fields against new.

``snapshots/lines_before_issue10.json`` holds what the single-module parser (before the ``lines`` package)
gave for every line of every ``tests/events/cwl_*.json`` fixture, including the runtime corpus. Every field
it found must still be found with the same value; the only differences allowed are listed below, each a
deliberate change of issue 10.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logship.ship.lines import LineParser
from tests.payloads import load, subscription_names

SNAPSHOT = json.loads((Path(__file__).parent / "snapshots" / "lines_before_issue10.json").read_text())

# JSON platform records now take the text format's word for the same record, so one query covers both.
RENAMED_ACTIONS = {"runtime_done": "end", "initRuntimeDone": "init_runtime_done", "initReport": "init_report",
                   "telemetrySubscription": "telemetry", "logsDropped": "logs_dropped"}


def leaves(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, dict) and value:
            out |= leaves(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_every_fixture_of_issue_10_is_still_replayed():
    """Fixtures added later are covered by the document snapshot and their own tests, not by this one."""
    assert set(SNAPSHOT) <= set(subscription_names())


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_every_field_the_previous_parser_found_is_still_found(name):
    parse = LineParser().parse
    events = load(name)["logEvents"]
    assert len(events) == len(SNAPSHOT[name])
    for event, before in zip(events, SNAPSHOT[name], strict=True):
        now = leaves(parse(event["message"])[1])
        for path, value in leaves(before).items():
            if path == "event.action" and value in RENAMED_ACTIONS:
                value = RENAMED_ACTIONS[value]
            assert now.get(path, "<missing>") == value, (name, event["message"][:80], path)
