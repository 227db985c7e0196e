"""Load the sample payloads in tests/events and encode them exactly as AWS delivers them.

Fixtures are kept decoded (readable JSON); ``encode`` makes the ``{"awslogs": {"data": ...}}`` event.
As a command it prints the encoded event, ready for ``sam local invoke -e`` or the Lambda console:

    python -m tests.payloads tests/events/cwl_python_runtime.json > event.json
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).parent / "events"


def load(name: str) -> dict[str, Any]:
    """A fixture by file stem, e.g. ``load("cwl_python_runtime")``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def encode(decoded: dict[str, Any]) -> dict[str, Any]:
    """Decoded subscription payload -> the Lambda event CloudWatch Logs sends (base64 of gzip of JSON)."""
    data = base64.b64encode(gzip.compress(json.dumps(decoded).encode())).decode()
    return {"awslogs": {"data": data}}


def subscription_names() -> list[str]:
    """Every CloudWatch Logs subscription fixture (``cwl_*.json``)."""
    return sorted(path.stem for path in EVENTS_DIR.glob("cwl_*.json"))


def data_payloads() -> list[str]:
    return [name for name in subscription_names() if load(name)["messageType"] == "DATA_MESSAGE"]


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    print(json.dumps(encode(json.loads(Path(sys.argv[1]).read_text()))))
