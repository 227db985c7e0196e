"""`make bench`: the figures that matter for a log shipper, printed, never asserted.

- hot path: events/second through decode -> documents -> NDJSON encoding (no I/O)
- end to end: events/second through the real handler into osmem-server
- cold start: time to import the handler module in a fresh interpreter
- package: size of the sam build output, when present
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from osmem_server import OsmemServer

from logship.documents import DocumentBuilder
from logship.payload import parse_batch
from logship.sink import encode as encode_action
from tests.payloads import encode, load

ROOT = Path(__file__).resolve().parent.parent


def synthetic_payload(events: int) -> dict:
    """A realistic mix: the sample payloads' lines repeated with unique ids and rising timestamps."""
    lines = [e["message"] for name in ("cwl_python_runtime", "cwl_node_runtime", "cwl_json_format")
             for e in load(name)["logEvents"]]
    base = load("cwl_python_runtime")
    start = base["logEvents"][0]["timestamp"]
    base["logEvents"] = [{"id": f"{start + i:013d}{i:043d}", "timestamp": start + i, "message": lines[i % len(lines)]}
                         for i in range(events)]
    return base


def bench_hot_path(events: int, rounds: int) -> float:
    event = encode(synthetic_payload(events))
    builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1")
    started = time.perf_counter()
    for _ in range(rounds):
        for document in builder.build(parse_batch(event)):
            encode_action(document)
    return events * rounds / (time.perf_counter() - started)


def bench_end_to_end(events: int, batches: int) -> float:
    with OsmemServer.start(japanese=False) as server:
        os.environ.update(OPENSEARCH_ENDPOINT=server.url, OPENSEARCH_AUTH="none", AWS_REGION="eu-west-1")
        sys.path.insert(0, str(ROOT / "functions/ship_logs"))
        import app  # the real handler

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 60_000

        payload = synthetic_payload(events)
        encoded = []
        for b in range(batches):
            for e in payload["logEvents"]:
                e["id"] = f"{b:04d}" + e["id"][4:]
            encoded.append(encode(json.loads(json.dumps(payload))))
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            for event in encoded:
                app.handler(event, Context())
        return events * batches / (time.perf_counter() - started)


def bench_cold_start(runs: int) -> float:
    code = "import time; t=time.perf_counter(); import app; print(time.perf_counter()-t)"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'functions/ship_logs'}"}
    times = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  check=True).stdout) for _ in range(runs)]
    return sorted(times)[len(times) // 2] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events per batch (default 2000)")
    parser.add_argument("--rounds", type=int, default=10, help="batches per measurement (default 10)")
    args = parser.parse_args()
    hot = bench_hot_path(args.events, args.rounds)
    print(f"hot path (decode+documents+encode): {hot:>10,.0f} events/s", flush=True)
    print(f"end to end into osmem-server:       {bench_end_to_end(args.events, args.rounds):>10,.0f} events/s",
          flush=True)
    print(f"cold start (import handler, median): {bench_cold_start(5):>9.0f} ms", flush=True)
    build = ROOT / ".aws-sam/build"
    if build.is_dir():
        subprocess.run([sys.executable, str(ROOT / "scripts/package_size.py"), str(build)], check=False)
    else:
        print("package size: run `make size` (sam build) to measure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
