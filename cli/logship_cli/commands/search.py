"""``logship search``: query_string over the stack's indices (or data streams), newest first, one line per hit.

``--follow`` tails new lines.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import click

from logship_cli.context import Aws, Cluster, aws_options, cluster_options, connect
from logship_cli.errors import USAGE, CliError
from logship_cli.timespec import Since

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")  # as the shipper writes log.level, least severe first
# While following, lines are looked for this far behind the newest one seen: Lambda delivers a batch some
# seconds after its lines were logged, and a line arriving later than this is left to a plain search.
FOLLOW_LAG_MS = 5 * 60_000
FOLLOW_PAGE = 1000

HELP = """Search the shipped logs with OpenSearch query_string syntax (the same as Dashboards' and Kibana's
Lucene bar); hits newest first, one line each: time, function, level, message.

\b
Examples:
  logship search 'log.level:ERROR' --since 1h
  logship search 'faas.coldstart:true AND lambda.init_duration_ms:>1000' --function checkout
  logship search 'correlation.x-correlation-id:"req-5e1f"' --json
  logship search --level WARN --follow             # tail warnings and worse as they arrive
  logship search 'timeout' --endpoint http://127.0.0.1:9200 --auth none
"""


def function_name(name: str) -> str:
    """``/aws/lambda/checkout`` or ``checkout`` -> ``checkout``, as ``faas.name`` holds it."""
    return name.removeprefix("/aws/lambda/")


def levels_from(level: str) -> list[str]:
    """``WARN`` -> WARN, ERROR, FATAL: a level and everything more severe."""
    wanted = "WARN" if level.upper() == "WARNING" else level.upper()
    return list(LEVELS[LEVELS.index(wanted):])


def search_body(query: str, *, since_ms: int | None = None, function: str | None = None, level: str | None = None,
                size: int = 50, oldest_first: bool = False) -> dict[str, Any]:
    """The _search body: the user's query_string, narrowed by time, function and level."""
    filters: list[dict[str, Any]] = []
    if since_ms is not None:
        filters.append({"range": {"@timestamp": {"gte": since_ms, "format": "epoch_millis"}}})
    if function:
        filters.append({"term": {"faas.name": function_name(function)}})
    if level:
        filters.append({"terms": {"log.level": levels_from(level)}})
    return {"query": {"bool": {"must": [{"query_string": {"query": query or "*"}}], "filter": filters}},
            "size": size, "sort": [{"@timestamp": {"order": "asc" if oldest_first else "desc"}}]}


def hit_line(source: Mapping[str, Any]) -> str:
    """``2025-11-22T10:00:01.123Z  checkout              ERROR  message`` (a multi-line message on one line)."""
    faas = source.get("faas") if isinstance(source.get("faas"), dict) else {}
    log = source.get("log") if isinstance(source.get("log"), dict) else {}
    message = str(source.get("message", "")).rstrip("\n").replace("\r", "").replace("\n", " ⏎ ")
    return (f"{source.get('@timestamp', '-')}  {faas.get('name') or '-':<20}  {log.get('level') or '-':<5}  "
            f"{message}")


def _epoch_ms(source: Mapping[str, Any]) -> int:
    try:
        return int(datetime.fromisoformat(str(source["@timestamp"]).replace("Z", "+00:00")).timestamp() * 1000)
    except (KeyError, ValueError):
        return 0


def run_search(client: Any, index: str, body: dict[str, Any]) -> dict[str, Any]:
    """One _search; a query the cluster cannot parse is the user's to fix (exit 2), with the cluster's words."""
    from opensearchpy.exceptions import RequestError

    try:
        return client.search(index=index, body=body)
    except RequestError as exc:
        raise CliError(f"the cluster could not run this query ({_reason(exc)}); query_string syntax: "
                       "field:value, AND/OR/NOT, \"exact phrase\", field:>10, wildcards*", USAGE) from None


def _reason(exc: Any) -> str:
    """The most telling reason of an OpenSearch error: its chain's longest (a parse error nests three deep, and
    the middle one names the query and the position)."""
    error = exc.info.get("error") if isinstance(exc.info, dict) else None
    reasons = [str(exc.error)]
    for _ in range(6):
        if not isinstance(error, dict):
            break
        reasons.append(str(error.get("reason") or ""))
        error = error.get("caused_by") or (error.get("root_cause") or [None])[0]
    return max(reasons, key=len)[:300]


class Follower:
    """Prints each new hit once, oldest first, polling every ``interval`` seconds until interrupted."""

    def __init__(self, client: Any, index: str, make_body: Callable[[int | None], dict[str, Any]],
                 echo: Callable[[Mapping[str, Any]], None], sleep: Callable[[float], None] = time.sleep) -> None:
        self._client, self._index, self._make_body = client, index, make_body
        self._echo, self._sleep = echo, sleep
        self._seen: dict[str, int] = {}  # id -> its time, for the lines within the lag window
        self._newest = 0

    def start(self, latest: list[dict[str, Any]]) -> None:
        """Show the latest hits, oldest first; what else the lag window holds already is not news."""
        self.show(list(reversed(latest)))
        self.poll(echo=False)

    def show(self, hits: list[dict[str, Any]], echo: bool = True) -> None:
        for hit in hits:
            if hit["_id"] in self._seen:
                continue
            stamp = _epoch_ms(hit["_source"])
            self._seen[hit["_id"]] = stamp
            self._newest = max(self._newest, stamp)
            if echo:
                self._echo(hit["_source"])
        floor = self._newest - FOLLOW_LAG_MS
        self._seen = {key: stamp for key, stamp in self._seen.items() if stamp >= floor}

    def poll(self, echo: bool = True) -> None:
        since = self._newest - FOLLOW_LAG_MS if self._newest else None
        self.show(run_search(self._client, self._index, self._make_body(since))["hits"]["hits"], echo)

    def run(self, interval: float, polls: int | None = None) -> None:
        done = 0
        while polls is None or done < polls:
            self._sleep(interval)
            self.poll()
            done += 1


def _echo_source(as_json: bool) -> Callable[[Mapping[str, Any]], None]:
    if as_json:
        return lambda source: click.echo(json.dumps(source, ensure_ascii=False, separators=(",", ":")))
    return lambda source: click.echo(hit_line(source))


@click.command(help=HELP)
@click.argument("query", required=False, default="*")
@click.option("--since", type=Since(), metavar="SINCE", help="Only lines from then on: 1h, 30m, 2d or 2025-11-22.")
@click.option("--function", "function", metavar="NAME", help="Only this function (faas.name), e.g. checkout.")
@click.option("--level", type=click.Choice([*LEVELS, "WARNING"], case_sensitive=False),
              help="Only this level and more severe ones.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="At most this many hits.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines as they arrive (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.2), default=2.0, show_default=True, hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print each hit as one JSON document per line.")
@cluster_options
@aws_options
@click.pass_context
def search(ctx: click.Context, query: str, since: int | None, function: str | None, level: str | None, limit: int,
           follow: bool, interval: float, as_json: bool, cluster: Cluster, aws: Aws) -> None:
    config = cluster.config(aws)
    ctx.meta["logship.endpoint"] = config.endpoint
    client, index = connect(config), ",".join(config.naming.patterns)  # the daily indices, or the data streams
    echo = _echo_source(as_json)
    first = run_search(client, index, search_body(query, since_ms=since, function=function, level=level, size=limit))
    hits = first["hits"]["hits"]
    if not follow:
        for hit in hits:
            echo(hit["_source"])
        total = first["hits"]["total"]
        count = total["value"] if isinstance(total, dict) else total
        more = f" (--limit {limit}: raise it to see more)" if count > len(hits) else ""
        click.echo(f"{len(hits)} of {count} hit(s) in {index}, newest first{more}", err=True)
        return

    def body_from(since_ms: int | None) -> dict[str, Any]:
        return search_body(query, since_ms=since_ms if since_ms is not None else since, function=function,
                           level=level, size=FOLLOW_PAGE, oldest_first=True)

    injected = ctx.obj if isinstance(ctx.obj, dict) else {}  # tests: a virtual sleep and a number of polls
    follower = Follower(client, index, body_from, echo, sleep=injected.get("sleep", time.sleep))
    follower.start(hits)  # the latest lines, in the order they happened, like tail -f
    click.echo(f"following {index} (Ctrl-C stops)", err=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a tail ends: not a failure
        follower.run(interval, polls=injected.get("polls"))
