"""``logship replay FILE...``: payload files through the shipper here, or through a deployed function."""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from logship_cli.context import Aws, Cluster, aws_options, cluster_options
from logship_cli.errors import FAILED, CliError, explain
from logship_cli.render import console, line

HELP = """Ship subscription payloads again and report each file's ledger (in = indexed + duplicates + degraded +
failed + pending). A file holds one payload: decoded JSON as in tests/events, the {"awslogs": {"data": ...}}
event Lambda receives, or a dead-letter message ({"requestPayload": ...}). Event ids make it idempotent: a line
already indexed counts as a duplicate.

\b
--to local     the shipper runs here, against the cluster (default; the stack's settings, or --endpoint)
--to shipper   the stack's ship-logs function (Lambda Invoke, waits for its answer)
--to NAME      any function, by name or ARN

\b
Examples:
  logship replay tests/events/cwl_python_runtime.json --endpoint http://127.0.0.1:9200 --auth none
  logship replay saved/*.json --to shipper
  logship replay batch.json --to logship-prod-ship-logs --region eu-west-1
"""
LEDGER = ("events_in", "indexed", "duplicates", "degraded", "failed", "pending")


def load_event(path: Path) -> dict[str, Any]:
    """The Lambda event for a payload file, whichever of the three forms it holds; CliError if none."""
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"{path}: not a JSON file ({exc})") from None
    if isinstance(content, dict) and isinstance(content.get("requestPayload"), dict):
        content = content["requestPayload"]  # Lambda's on-failure record, as the dead-letter queue keeps it
    if isinstance(content, dict) and "awslogs" in content:
        return content
    if isinstance(content, dict) and "logEvents" in content and "messageType" in content:
        data = base64.b64encode(gzip.compress(json.dumps(content).encode())).decode()
        return {"awslogs": {"data": data}}
    raise CliError(f'{path}: not a subscription payload: expected {{"awslogs": ...}}, a decoded payload with '
                   'messageType and logEvents, or a dead-letter message with requestPayload')


def ledger_text(summary: Mapping[str, Any]) -> str:
    figures = ", ".join(f"{summary.get(key, 0)} {key.replace('events_in', 'in')}" for key in LEDGER)
    return f"{figures} ({summary.get('log_group', '?')})"


class LocalShipper:
    """The shipper's own code, here: one summary per event; a failure keeps the summary it printed, if any."""

    def __init__(self, cluster: Cluster, aws: Aws, seconds: float) -> None:
        from logship.cluster.client import connect
        from logship.ship.shipper import Shipper

        self.config = cluster.config(aws)
        self._shipper = Shipper(self.config, *connect(self.config))
        self._seconds = seconds

    def ship(self, event: dict[str, Any]) -> dict[str, Any]:
        from logship_cli.redrive import Budget

        printed = io.StringIO()
        try:
            return self._shipper.ship(event, Budget(self._seconds), stream=printed)
        except Exception as exc:
            summaries = [json.loads(raw) for raw in printed.getvalue().splitlines() if '"events_in"' in raw]
            detail = f"; {ledger_text(summaries[-1])}" if summaries else ""
            raise CliError(f"{explain(exc, endpoint=self.config.endpoint).message}{detail}") from exc


class FunctionShipper:
    """A deployed function, invoked and waited for (RequestResponse): its return value is the summary."""

    def __init__(self, aws: Aws, function: str) -> None:
        self._aws = aws
        self.function = aws.output("ShipLogsFunctionArn") if function == "shipper" else function

    def ship(self, event: dict[str, Any]) -> dict[str, Any]:
        answer = self._aws.client("lambda").invoke(FunctionName=self.function, InvocationType="RequestResponse",
                                                   Payload=json.dumps(event).encode())
        payload = answer["Payload"].read()
        try:
            result = json.loads(payload) if payload else None
        except ValueError:
            result = payload.decode(errors="replace")
        if answer.get("FunctionError"):
            message = result.get("errorMessage") if isinstance(result, dict) else result
            raise CliError(f"{self.function} failed ({answer['FunctionError']}): {message}")
        if not isinstance(result, dict) or "events_in" not in result:
            raise CliError(f"{self.function} answered {str(result)[:200]!r}, not a ship-logs summary: is it the "
                           "ship-logs function?")
        return result


@click.command(help=HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "target", default="local", show_default=True, metavar="local|shipper|FUNCTION",
              help="Where to ship: here, the stack's ship-logs, or a function by name or ARN.")
@click.option("--timeout", type=click.FloatRange(1), default=120.0, show_default=True, metavar="SECONDS",
              help="With --to local: how long each file may take, retries included (what is left is pending).")
@cluster_options
@aws_options
@click.pass_context
def replay(ctx: click.Context, files: tuple[Path, ...], target: str, timeout: float, cluster: Cluster,
           aws: Aws) -> None:
    out = console()
    shipper: LocalShipper | FunctionShipper
    if target == "local":
        shipper = LocalShipper(cluster, aws, timeout)
        ctx.meta["logship.endpoint"] = shipper.config.endpoint
        where = shipper.config.endpoint
    else:
        shipper = FunctionShipper(aws, target)
        where = shipper.function
    line(out, f"replaying {len(files)} file(s) through {where}")
    totals = dict.fromkeys(LEDGER, 0)
    failures = 0
    for path in files:
        try:
            summary = shipper.ship(load_event(path))
        except CliError as exc:
            failures += 1
            line(out, f"{path}: failed: {exc.message}")
            continue
        for key in LEDGER:
            totals[key] += int(summary.get(key, 0))
        line(out, f"{path}: {ledger_text(summary)}")
    line(out, f"total: {ledger_text(totals | {'log_group': f'{len(files) - failures} of {len(files)} files'})}")
    if failures:
        raise CliError(f"{failures} of {len(files)} file(s) not fully shipped; their lines above say why", FAILED)
