"""`make bench`: the figures that matter for a log shipper, printed, never asserted.

- hot path: events/second through decode -> documents -> NDJSON encoding (no I/O)
- end to end: events/second through the real handler into osmem-server
- bytes on the wire: the bulk bodies as a proxy receives them, gzip off and on (COMPRESS_REQUESTS), and what
  zlib's level costs in CPU for what it saves (the shipper uses level 1, logship.bounded_connection.GZIP_LEVEL)
- cold start: time to import the handler module in a fresh interpreter
- package: size of the sam build output, when present
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
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


def bench_wire_bytes(events: int, batches: int) -> dict[str, int]:
    """Bytes of bulk request bodies received by a proxy in front of osmem-server, gzip off then on."""
    from tests.conftest import load_handler
    from tests.integration.fault_proxy import FaultProxy

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    wire: dict[str, int] = {}
    with OsmemServer.start(japanese=False) as server, FaultProxy(server.url) as proxy:
        for setting in ("false", "true"):
            os.environ.update(OPENSEARCH_ENDPOINT=proxy.url, OPENSEARCH_AUTH="none", AWS_REGION="eu-west-1",
                              COMPRESS_REQUESTS=setting, INDEX_PREFIX=f"wire{len(wire)}")  # same length
            app = load_handler("ship_logs")  # a cold start with this setting
            payload = synthetic_payload(events)
            before = len(proxy.faults.seen)
            with contextlib.redirect_stdout(io.StringIO()):
                for b in range(batches):
                    for e in payload["logEvents"]:
                        e["id"] = f"{b:04d}" + e["id"][4:]
                    app.handler(encode(json.loads(json.dumps(payload))), Context())
            bulk = [seen for seen in proxy.faults.seen[before:] if seen.path.endswith("/_bulk")]
            wire[setting] = sum(len(seen.body) for seen in bulk)
    return wire


def bench_gzip_levels(events: int) -> list[tuple[int, int, float]]:
    """(level, compressed bytes, ms) for one batch's NDJSON at zlib levels 1, 6 and 9 (opensearch-py's own)."""
    builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1")
    body = b"".join(encode_action(d) for d in builder.build(parse_batch(encode(synthetic_payload(events)))))
    found = []
    for level in (1, 6, 9):
        started = time.perf_counter()
        size = len(gzip.compress(body, compresslevel=level, mtime=0))
        found.append((level, size, (time.perf_counter() - started) * 1000))
    return [(0, len(body), 0.0), *found]


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
    wire = bench_wire_bytes(args.events, 3)
    print(f"bytes on the wire, bulk bodies of {3 * args.events:,} events: {wire['false']:,} uncompressed, "
          f"{wire['true']:,} gzipped ({wire['false'] / max(1, wire['true']):.1f}x fewer)", flush=True)
    levels = bench_gzip_levels(args.events)
    print("gzip level vs bytes and CPU for one batch: " + ", ".join(
        f"level {level}: {size:,} B in {ms:.1f} ms" if level else f"none: {size:,} B" for level, size, ms in levels),
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
