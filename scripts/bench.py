"""`make bench`: the figures issue 11 sets targets for, measured side by side in one run; printed, never asserted.

- floor_ratio.<mix>: CPU time from the Lambda event to the bulk request bodies (the real ship-logs path, with a
  cluster that answers every bulk request at once: no network, no gzip, and its own time to answer left out)
  over the floor, base64 + gunzip + the stdlib's json.loads of the same event. The two are timed interleaved
  (short runs of each in turn, many rounds, the median of each round's ratio): this machine's speed drifts in
  blocks of about a second.
- transform_events_per_s.<mix>: the same transform in events per second (median of the rounds).
- redact_ratio: the JSON mix with RedactBuiltins=all over the same mix without (interleaved too).
- peak_rss_ratio: on the largest batch CloudWatch Logs delivers (tests/mixes.py: 32,685 events), in a fresh
  interpreter: the peak resident set while shipping it (VmHWM, reset just before: ru_maxrss would keep the
  setup's own peak), minus the resident set just before, over the decoded size. tracemalloc's peak of
  Python allocations is printed beside it.
- e2e_ratio: events/s end to end through the real handler into osmem-server over events/s of osmem-server
  ingesting prebuilt bodies of the same documents through the same client (interleaved). Beside it, the same
  events as one Kinesis batch of 20 records (Transport=kinesis): events/s and MB/s of gzip payloads.
- ship_import_ratio: importing the ship-logs handler over `import opensearchpy, botocore.auth`, fresh
  interpreters in turn, medians.
- package_mb: the sam build output (.aws-sam/build), when present (`make size` builds it), else null.
Also printed: bytes of bulk bodies on the wire with gzip off and on, and what zlib's level costs.
Results go to .bench/results.json. Targets (issue 11): floor ratio <= 3.0 / 3.5 / 4.0, redact <= 1.5,
peak <= 3.0, e2e >= 0.9, import <= 0.8, package <= 4 MB.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import gc
import gzip
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from logship.core.config import ShipperConfig  # noqa: E402
from logship.ship.shipper import Shipper  # noqa: E402
from tests import mixes  # noqa: E402
from tests.payloads import encode  # noqa: E402

RESULTS = ROOT / ".bench" / "results.json"
TARGETS = {"floor_ratio.plain": ("<=", 3.0), "floor_ratio.runtime": ("<=", 3.5), "floor_ratio.json": ("<=", 4.0),
           "redact_ratio": ("<=", 1.5), "peak_rss_ratio": ("<=", 3.0), "e2e_ratio": (">=", 0.9),
           "ship_import_ratio": ("<=", 0.8), "package_mb": ("<=", 4.0)}
_CREATED = {"create": {"status": 201}}


class NullCluster:
    """A bulk API that takes every document at once: the shipper's own work, without the network.

    Counting a body's lines to answer one item per document is the cluster's work, not logship's: the time it
    takes (about 1 ms for 5,000 plain lines) adds up in ``answering_s``, which the timings leave out.
    """

    answering_s = 0.0  # every instance's, in this process

    def __init__(self, keep: bool = False) -> None:
        self.bodies: list[bytes] = []
        self._keep = keep

    def bulk(self, body: Any, **_options: Any) -> dict[str, Any]:
        started = time.perf_counter()
        if self._keep:
            self.bodies.append(body)
        answer = {"took": 0, "errors": False, "items": [_CREATED] * (body.count(b"\n") // 2)}
        NullCluster.answering_s += time.perf_counter() - started
        return answer


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class _Budget:
    def remaining_ms(self) -> int:
        return 900_000


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _env(**overrides: str) -> dict[str, str]:
    return {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9", "OPENSEARCH_AUTH": "none", "AWS_REGION": "eu-west-1",
            "AWS_LAMBDA_FUNCTION_NAME": "logship-ship-logs", **overrides}


def shipper(client: Any = None, **env: str) -> Shipper:
    return Shipper(ShipperConfig.from_env(_env(**env)), client or NullCluster())


def transform(ship: Shipper) -> Callable[[dict[str, Any]], Any]:
    """Lambda event -> bulk bodies, the handler's path (summary and metric lines printed to nowhere)."""
    budget, discard = _Budget(), _Discard()
    return lambda event: ship.ship(event, budget, discard)


def floor(event: dict[str, Any]) -> Any:
    """What any shipper must do before it can look at a line."""
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def _timed(run: Callable[[Any], Any], event: Any, minimum_s: float) -> float:
    """Seconds per call: as many calls as fill ``minimum_s`` (one at least), less the stand-in cluster's own."""
    calls, started, answering = 0, time.perf_counter(), NullCluster.answering_s
    while True:
        run(event)
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= minimum_s:
            return (elapsed - (NullCluster.answering_s - answering)) / calls


def interleaved(a: Callable[[Any], Any], b: Callable[[Any], Any], event: Any, rounds: int,
                slice_s: float = 0.08) -> tuple[float, float, float]:
    """Median seconds per call of ``a`` and ``b``, and the median of the per-round ratios b / a."""
    a(event), b(event)  # warm: caches, lazy imports
    times_a, times_b, ratios = [], [], []
    for _ in range(rounds):
        ta, tb = _timed(a, event, slice_s), _timed(b, event, slice_s)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(tb / ta)
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def bench_mixes(rounds: int, results: dict[str, Any]) -> None:
    ship = transform(shipper())
    print(f"{'mix':<9}{'floor ms':>10}{'logship ms':>12}{'events/s':>11}{'floor ratio':>13}  target", flush=True)
    for mix in mixes.MIXES:
        event = encode(mixes.payload(mix))
        floor_s, ship_s, ratio = interleaved(floor, ship, event, rounds)
        results[f"floor_ratio.{mix}"] = round(ratio, 2)
        results[f"transform_events_per_s.{mix}"] = round(mixes.BATCH_EVENTS / ship_s)
        print(f"{mix:<9}{floor_s * 1000:>10.1f}{ship_s * 1000:>12.1f}{mixes.BATCH_EVENTS / ship_s:>11,.0f}"
              f"{ratio:>13.2f}  {_target(f'floor_ratio.{mix}')}", flush=True)


def bench_redaction(rounds: int, results: dict[str, Any]) -> None:
    event = encode(mixes.payload("json"))
    plain_s, redact_s, ratio = interleaved(transform(shipper()), transform(shipper(REDACT_BUILTINS="all")), event,
                                           rounds)
    results["redact_ratio"] = round(ratio, 2)
    print(f"redaction, JSON mix, RedactBuiltins=all: {redact_s * 1000:.1f} ms against {plain_s * 1000:.1f} ms, "
          f"ratio {ratio:.2f}  {_target('redact_ratio')}", flush=True)


def _largest_event_file() -> Path:
    path = ROOT / ".bench" / "largest_event.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(encode(mixes.largest_payload())))
    return path


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss() -> None:
    """Linux: the peak resident set starts again from now (``ru_maxrss`` would keep the setup's own peak)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M)[1]) * 1024


def peak_child(path: str, how: str) -> None:
    """In a fresh interpreter: ship the largest batch once and print how much memory that took at its peak."""
    ship = transform(shipper())
    ship(encode(mixes.payload("all", 300)))  # first-use costs (compiled patterns, caches) are not the batch's
    event = json.loads(Path(path).read_text())
    decoded = len(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    run = floor if how.startswith("floor") else ship
    gc.collect()
    if how.endswith("tracemalloc"):
        import tracemalloc

        tracemalloc.start()
        run(event)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        _reset_peak_rss()
        before = _rss_bytes()
        run(event)
        peak = _peak_rss_bytes() - before
    print(json.dumps({"peak": peak, "decoded": decoded, "compressed": len(base64.b64decode(
        event["awslogs"]["data"])), "events": mixes.LARGEST_EVENTS}))


def bench_peak_memory(results: dict[str, Any]) -> None:
    path = _largest_event_file()
    found = {}
    for how in ("rss", "tracemalloc", "floor-rss"):
        out = subprocess.run([sys.executable, __file__, "--peak-child", str(path), how], capture_output=True,
                             text=True, check=True, env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"})
        found[how] = json.loads(out.stdout)
    decoded = found["rss"]["decoded"]
    ratios = {how: figures["peak"] / decoded for how, figures in found.items()}
    results["peak_rss_ratio"] = round(ratios["rss"], 2)
    results["peak_tracemalloc_ratio"] = round(ratios["tracemalloc"], 2)
    results["peak_floor_rss_ratio"] = round(ratios["floor-rss"], 2)
    print(f"largest batch ({found['rss']['events']:,} events, {found['rss']['compressed'] / 1e6:.2f} MB gzip, "
          f"{decoded / 1e6:.2f} MB decoded): peak RSS rise {found['rss']['peak'] / 2**20:.1f} MiB = "
          f"{ratios['rss']:.2f}x decoded  {_target('peak_rss_ratio')}; tracemalloc peak "
          f"{found['tracemalloc']['peak'] / 2**20:.1f} MiB = {ratios['tracemalloc']:.2f}x; the floor alone "
          f"{ratios['floor-rss']:.2f}x", flush=True)


def _batches(mix: str, count: int, events: int, first: int) -> list[dict[str, Any]]:
    """``count`` encoded batches of the mix, each with ids of its own (every document is new to the cluster)."""
    base = mixes.payload(mix, events)
    found = []
    for n in range(first, first + count):
        payload = copy.deepcopy(base)
        for event in payload["logEvents"]:
            event["id"] = f"{n:04d}{event['id'][4:]}"
        found.append(encode(payload))
    return found


KINESIS_RECORDS = 20  # records per event source mapping batch, each one subscription payload


def _kinesis_events(count: int, events: int, first: int) -> list[dict[str, Any]]:
    """``count`` event source mapping batches of :data:`KINESIS_RECORDS` records, ``events`` events in all."""
    batches = _batches("runtime", count * KINESIS_RECORDS, events // KINESIS_RECORDS, first)
    return [{"Records": [{"kinesis": {"data": batch["awslogs"]["data"], "sequenceNumber": str(n),
                                      "partitionKey": "/aws/lambda/bench"},
                          "eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:"
                                                                          "stream/logship-logs"}
                         for n, batch in enumerate(batches[i * KINESIS_RECORDS:(i + 1) * KINESIS_RECORDS])]}
            for i in range(count)]


def bench_end_to_end(rounds: int, events: int, results: dict[str, Any]) -> None:
    from osmem_server import OsmemServer

    from logship.cluster.client import connect

    with OsmemServer.start(japanese=False) as server:
        os.environ.update(_env(OPENSEARCH_ENDPOINT=server.url))
        sys.path.insert(0, str(ROOT / "functions/ship_logs"))
        import app  # the real handler

        config = ShipperConfig.from_env(_env(OPENSEARCH_ENDPOINT=server.url))
        client = connect(config)[0]
        capture = NullCluster(keep=True)
        prebuilt = transform(shipper(capture))
        for event in _batches("runtime", rounds + 1, events, first=5000):
            prebuilt(event)  # the same documents logship writes, other ids: new to the cluster too
        bodies = iter(capture.bodies)
        deliveries = iter(_batches("runtime", rounds + 1, events, first=0))
        records = iter(_kinesis_events(rounds, events, first=6000))
        with contextlib.redirect_stdout(io.StringIO()):
            app.handler(next(deliveries), _Context())  # cold start, index creation: not measured
            client.bulk(body=next(bodies))
            rates_ship, rates_bulk = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                app.handler(next(deliveries), _Context())
                rates_ship.append(events / (time.perf_counter() - started))
                started = time.perf_counter()
                answer = client.bulk(body=next(bodies))
                rates_bulk.append(events / (time.perf_counter() - started))
                assert not answer["errors"], "the prebuilt body was refused"
            rates_kinesis, megabytes = [], []
            for _ in range(rounds):
                event = next(records)
                started = time.perf_counter()
                assert app.handler(event, _Context()) == {"batchItemFailures": []}, "a record failed"
                seconds = time.perf_counter() - started
                rates_kinesis.append(events / seconds)
                megabytes.append(sum(len(r["kinesis"]["data"]) * 3 / 4 for r in event["Records"]) / seconds / 1e6)
    ratio = statistics.median(s / b for s, b in zip(rates_ship, rates_bulk, strict=True))
    results["kinesis_events_per_s"] = round(statistics.median(rates_kinesis))
    results["kinesis_gzip_mb_per_s"] = round(statistics.median(megabytes), 2)
    print(f"Transport=kinesis, one invocation of {KINESIS_RECORDS} records of {events // KINESIS_RECORDS} events: "
          f"{statistics.median(rates_kinesis):,.0f} events/s, {statistics.median(megabytes):.2f} MB/s of gzip "
          f"payloads (direct, one batch of {events}: {statistics.median(rates_ship):,.0f} events/s)", flush=True)
    results["e2e_ratio"] = round(ratio, 2)
    results["e2e_events_per_s"] = round(statistics.median(rates_ship))
    print(f"end to end into osmem-server: {statistics.median(rates_ship):,.0f} events/s through the handler, "
          f"{statistics.median(rates_bulk):,.0f} events/s for prebuilt bodies: ratio {ratio:.2f}  "
          f"{_target('e2e_ratio')}", flush=True)


def bench_wire_bytes(events: int, batches: int, results: dict[str, Any]) -> None:
    """Bytes of bulk request bodies received by a proxy in front of osmem-server, gzip off then on."""
    from osmem_server import OsmemServer

    from tests.conftest import load_handler
    from tests.integration.fault_proxy import FaultProxy

    wire: dict[str, int] = {}
    with OsmemServer.start(japanese=False) as server, FaultProxy(server.url) as proxy:
        for setting in ("false", "true"):
            os.environ.update(_env(OPENSEARCH_ENDPOINT=proxy.url, COMPRESS_REQUESTS=setting,
                                   INDEX_PREFIX=f"wire{len(wire)}"))  # same length: same documents' size
            app = load_handler("ship_logs")  # a cold start with this setting
            before = len(proxy.faults.seen)
            with contextlib.redirect_stdout(io.StringIO()):
                for event in _batches("runtime", batches, events, first=0):
                    app.handler(event, _Context())
            wire[setting] = sum(len(seen.body) for seen in proxy.faults.seen[before:] if seen.path.endswith("/_bulk"))
    results["wire_bytes_plain"], results["wire_bytes_gzip"] = wire["false"], wire["true"]
    print(f"bytes on the wire, bulk bodies of {batches * events:,} runtime-mix events: {wire['false']:,} "
          f"uncompressed, {wire['true']:,} gzipped ({wire['false'] / max(1, wire['true']):.1f}x fewer)", flush=True)


def bench_gzip_levels(results: dict[str, Any]) -> None:
    """Compressed bytes and ms for one batch's bulk body at zlib levels 1 (the shipper's), 6 and 9."""
    capture = NullCluster(keep=True)
    transform(shipper(capture))(encode(mixes.payload("runtime")))
    body = b"".join(capture.bodies)
    found = []
    for level in (1, 6, 9):
        started = time.perf_counter()
        size = len(gzip.compress(body, compresslevel=level, mtime=0))
        found.append(f"level {level}: {size:,} B in {(time.perf_counter() - started) * 1000:.1f} ms")
    print(f"gzip of one runtime-mix batch ({len(body):,} B): " + ", ".join(found), flush=True)


def _import_time(modules: str, pythonpath: str) -> float:
    code = f"import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)


def bench_import(runs: int, results: dict[str, Any]) -> None:
    handler_path = f"{ROOT / 'shared'}:{ROOT / 'functions/ship_logs'}"
    handler, libraries = [], []
    for _ in range(runs):
        handler.append(_import_time("app", handler_path))
        libraries.append(_import_time("opensearchpy, botocore.auth", ""))
    ratio = statistics.median(handler) / statistics.median(libraries)
    results["ship_import_ratio"] = round(ratio, 2)
    results["ship_import_ms"] = round(statistics.median(handler) * 1000)
    print(f"cold start: import the handler {statistics.median(handler) * 1000:.0f} ms, `import opensearchpy, "
          f"botocore.auth` {statistics.median(libraries) * 1000:.0f} ms: ratio {ratio:.2f}  "
          f"{_target('ship_import_ratio')}", flush=True)


def bench_package(results: dict[str, Any]) -> None:
    build = ROOT / ".aws-sam" / "build"
    if not build.is_dir():
        results["package_mb"] = None
        results["package_note"] = "no .aws-sam/build: run `make size` (sam build) first"
        print("package size: not measured (no .aws-sam/build: run `make size` first)", flush=True)
        return
    total = sum(f.stat().st_size for artifact in build.iterdir() if artifact.is_dir()
                for f in artifact.rglob("*") if f.is_file())
    results["package_mb"] = round(total / 1e6, 2)
    print(f"package (sam build output, unzipped): {total / 1e6:.2f} MB  {_target('package_mb')}", flush=True)


def _target(key: str) -> str:
    sense, limit = TARGETS[key]
    return f"(target {sense} {limit})"


def _verdicts(results: dict[str, Any]) -> list[str]:
    missed = []
    for key, (sense, limit) in TARGETS.items():
        value = results.get(key)
        if value is not None and not (value <= limit if sense == "<=" else value >= limit):
            missed.append(f"{key} = {value} (target {sense} {limit})")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds per ratio (default 25)")
    parser.add_argument("--peak-child", nargs=2, metavar=("EVENT_FILE", "HOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        peak_child(*args.peak_child)
        return 0
    started = time.perf_counter()
    results: dict[str, Any] = {}
    bench_mixes(args.rounds, results)
    bench_redaction(args.rounds, results)
    bench_peak_memory(results)
    bench_end_to_end(6, 2000, results)
    bench_wire_bytes(2000, 3, results)
    bench_gzip_levels(results)
    bench_import(7, results)
    bench_package(results)
    results["seconds"] = round(time.perf_counter() - started)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    missed = _verdicts(results)
    measured = sum(results.get(key) is not None for key in TARGETS)
    print(f"{measured - len(missed)} of {measured} measured targets met" + ("" if not missed else ": missed " +
          "; ".join(missed)) + f"; {RESULTS.relative_to(ROOT)} written in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
