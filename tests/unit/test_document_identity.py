"""The bulk bodies ship-logs sends hold exactly the documents they held before issue 11 made them fast.

``snapshots/documents_before_issue11.json`` was written by the code before issue 11 (a source dict per
event, the stdlib's JSON encoder): for every ``tests/events`` fixture, the three bench mixes and every bad
input of tests/integration/test_bad_inputs.py, each bulk action and document as the cluster parses them, and
the function metrics printed after the batch. The shipper now encodes with orjson, splices the parts a batch
shares and builds documents in slices; parsed, every document must be the same, in the same order.

Regenerate only for a deliberate change of the documents: ``python -m tests.unit.test_document_identity``.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from logship.core.config import ShipperConfig
from logship.ship.shipper import Shipper
from tests import mixes
from tests.integration.test_bad_inputs import BAD_INPUTS
from tests.payloads import encode, load, subscription_names

SNAPSHOT_PATH = Path(__file__).parent / "snapshots" / "documents_before_issue11.json"
MIX_EVENTS = 80
# Plain text like every other message; kept out of the snapshot for its size (the bad-inputs test indexes it).
LEFT_OUT = {"a 256 KiB message"}
CONFIGS = {
    "default": {},
    # The parts a batch shares get a service and labels, and the index is one data stream.
    "named": {"FUNCTION_NAME_PATTERN": r"(?P<service>[^-]+)-(?P<environment>[^-]+)(?:-(?P<part>.+))?",
              "INDEX_MODE": "datastream", "CORRELATION_KEYS": "correlation_id,orderId"},
}


class _Capture:
    """A cluster that keeps every bulk body and creates every document."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def bulk(self, body: bytes, **_options: Any) -> dict[str, Any]:
        self.bodies.append(body)
        return {"took": 0, "errors": False, "items": [{"create": {"status": 201}}] * (body.count(b"\n") // 2)}


class _Budget:
    def remaining_ms(self) -> int:
        return 600_000


def _raw_event(raw: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw)).decode()}}


def cases(config: str) -> dict[str, dict[str, Any]]:
    """Every Lambda event the snapshot covers in ``config``, by name (the bad inputs in the default one)."""
    found = {f"fixture {name}": encode(load(name)) for name in subscription_names()}
    found |= {f"mix {mix}": encode(mixes.payload(mix, MIX_EVENTS)) for mix in mixes.MIXES}
    for bad in BAD_INPUTS if config == "default" else ():
        if bad.name in LEFT_OUT:
            continue
        payload = load("cwl_python_runtime")
        raw = bad.change(payload)
        found[f"bad input: {bad.name}"] = _raw_event(raw) if raw is not None else encode(payload)
    return found


def ship(event: dict[str, Any], config: str) -> dict[str, Any]:
    """What the real shipper sends for ``event``, parsed: [action, document] pairs, and the metric records."""
    env = {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9", "OPENSEARCH_AUTH": "none", "AWS_REGION": "eu-west-1",
           "AWS_LAMBDA_FUNCTION_NAME": "logship-ship-logs", **CONFIGS[config]}
    cluster, printed = _Capture(), io.StringIO()
    Shipper(ShipperConfig.from_env(env), cluster).ship(event, _Budget(), printed)
    lines = [json.loads(line) for body in cluster.bodies for line in body.splitlines()]
    records = [json.loads(line) for line in printed.getvalue().splitlines()]
    return {"documents": [lines[i:i + 2] for i in range(0, len(lines), 2)],
            "metrics": [record for record in records if record.get("logship") != "ship-logs"]}


def _snapshot() -> dict[str, Any]:
    return json.loads(SNAPSHOT_PATH.read_text())


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return _snapshot()


def test_the_snapshot_covers_every_case_in_every_configuration(snapshot):
    assert set(snapshot) == {f"{config} / {name}" for config in CONFIGS for name in cases(config)}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_document_is_what_it_was_before(snapshot, config):
    for name, event in cases(config).items():
        now, before = ship(event, config), snapshot[f"{config} / {name}"]
        assert len(now["documents"]) == len(before["documents"]), name
        for position, (document, expected) in enumerate(zip(now["documents"], before["documents"], strict=True)):
            assert document == expected, (name, position)
        assert now["metrics"] == before["metrics"], name


def _write() -> None:
    found = {f"{config} / {name}": ship(event, config) for config in CONFIGS
             for name, event in cases(config).items()}
    SNAPSHOT_PATH.write_text("{\n" + ",\n".join(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}"
                                                for key, value in found.items()) + "\n}\n")


if __name__ == "__main__":
    _write()


def test_read_in_slices_every_document_is_the_same(snapshot, monkeypatch):
    """Large deliveries are read a slice at a time: with tiny slices, every case takes that path."""
    from logship.ship import payload

    monkeypatch.setattr(payload, "READ_IN_SLICES_ABOVE", 0)
    monkeypatch.setattr(payload, "_SLICE_BYTES", 300)
    for name, event in cases("default").items():
        assert ship(event, "default") == snapshot[f"default / {name}"], name


def test_a_large_delivery_is_read_in_slices_and_usual_lines_are_encoded_by_the_builder(monkeypatch):
    from logship.ship import payload
    from logship.ship.documents import DocumentBuilder, Page

    monkeypatch.setattr(payload, "_SLICE_BYTES", 4096)
    event = encode(mixes.payload("all", 600))
    monkeypatch.setattr(payload, "READ_IN_SLICES_ABOVE", 0)
    delivery = payload.read_delivery(event)
    slices = list(delivery.slices())
    assert len(slices) > 10
    assert sum(len(part.ids) for part in slices) == 600
    built = list(DocumentBuilder(region="eu-west-1").pages(payload.read_delivery(event)))
    assert all(isinstance(item, Page) for item in built)  # none left to the stdlib's encoder
    assert sum(map(len, built)) == 600
