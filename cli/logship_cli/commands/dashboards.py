"""``logship dashboards import|export``: the ready-made views for OpenSearch Dashboards and Kibana."""

from __future__ import annotations

from typing import IO

import click

from logship_cli import saved_objects
from logship_cli.context import Aws
from logship_cli.dashboards import load, to_ndjson, with_prefix
from logship_cli.errors import FAILED, USAGE, CliError
from logship_cli.render import console, line

HELP = """Ready-made views of the shipped logs: the <prefix>-* index pattern (data view) on @timestamp with
durations in ms and memory in MB; the saved searches Errors, Timeouts, Cold starts, Failed and degraded
documents; and the dashboard "logship: Lambda functions" (invocations and errors per function, p95 duration,
max memory used against memory size, cold-start init durations, what the shipper made of the lines).

\b
Examples:
  logship dashboards import --url https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards --auth sigv4
  logship dashboards export logship.ndjson --kibana
"""
IMPORT_HELP = """Import the views through the saved-objects API (overwriting earlier copies of them).

\b
Examples:
  logship dashboards import --url https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards --auth sigv4
  logship dashboards import --url https://kibana.example.com:5601 --kibana --auth basic --username elastic
  logship dashboards import --url http://localhost:5601 --prefix applogs
"""
EXPORT_HELP = """Write the views as NDJSON, to import by hand (Stack Management, Saved objects, Import).

\b
Examples:
  logship dashboards export logship.ndjson
  logship dashboards export - --kibana --prefix applogs > logship-kibana.ndjson
"""


def _product(kibana: bool) -> str:
    return "kibana" if kibana else "opensearch"


def _objects(kibana: bool, prefix: str) -> str:
    return to_ndjson(with_prefix(load(_product(kibana)), prefix))


def _check_prefix(prefix: str) -> str:
    from logship.core.config import ConfigError, ShipperConfig

    try:  # the same rule as the stack's IndexPrefix
        ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "http://127.0.0.1", "OPENSEARCH_AUTH": "none",
                                "INDEX_PREFIX": prefix})
    except ConfigError as exc:
        raise CliError(str(exc).replace("INDEX_PREFIX", "--prefix"), USAGE) from None
    return prefix


def _credentials(auth: str, username: str | None, password: str | None, secret_arn: str | None,
                 region: str | None) -> tuple[dict[str, str] | None, saved_objects.Signer | None]:
    if auth == "sigv4":
        return None, saved_objects.sigv4_signer(Aws(region=region).region)
    if auth != "basic":
        return None, None
    if secret_arn:
        from logship.cluster.secrets import CachedSecret

        client = Aws(region=region or secret_arn.split(":")[3]).client("secretsmanager")
        return saved_objects.basic_header(*CachedSecret(client, secret_arn).credentials()), None
    if not username:
        raise CliError("--auth basic needs --username (the password: LOGSHIP_DASHBOARDS_PASSWORD, or asked) or "
                       "--secret-arn", USAGE)
    if password is None:
        password = click.prompt(f"password for {username}", hide_input=True)
    return saved_objects.basic_header(username, password), None


@click.group(help=HELP)
def dashboards() -> None:
    pass


@dashboards.command("import", help=IMPORT_HELP)
@click.option("--url", required=True, envvar="LOGSHIP_DASHBOARDS_URL", metavar="URL",
              help="OpenSearch Dashboards or Kibana address (a Kibana space: .../s/SPACE).")
@click.option("--kibana", is_flag=True, help="Kibana (kbn-xsrf, its own file) instead of OpenSearch Dashboards.")
@click.option("--prefix", default="cwl", show_default=True, envvar="LOGSHIP_PREFIX", help="The stack's IndexPrefix.")
@click.option("--auth", type=click.Choice(["none", "basic", "sigv4"]), default="none", show_default=True,
              help="none; basic (--username or --secret-arn); sigv4 (Amazon OpenSearch Service, your credentials).")
@click.option("--username", envvar="LOGSHIP_DASHBOARDS_USERNAME", help="For --auth basic.")
@click.option("--password", envvar="LOGSHIP_DASHBOARDS_PASSWORD", hidden=True)
@click.option("--secret-arn", metavar="ARN", help='For --auth basic: a secret {"username": ..., "password": ...}.')
@click.option("--region", metavar="REGION", help="For sigv4 (default: AWS_REGION or samconfig.toml).")
def import_(url: str, kibana: bool, prefix: str, auth: str, username: str | None, password: str | None,
            secret_arn: str | None, region: str | None) -> None:
    product = _product(kibana)
    ndjson = _objects(kibana, _check_prefix(prefix))
    headers, signer = _credentials(auth, username, password, secret_arn, region)
    answer = saved_objects.send(saved_objects.import_request(url, ndjson, product), product, auth=headers,
                                signer=signer)
    out = console()
    line(out, f"{saved_objects.NAMES[product]} at {url}: {answer.get('successCount', 0)} of "
              f"{ndjson.count(chr(10))} saved objects imported for {prefix}-*")
    for error in answer.get("errors", []):
        line(out, f"    {error.get('type')} {error.get('id')} ({error.get('title', '')}): {error.get('error')}")
    if not answer.get("success"):
        raise CliError("the import was not complete: the errors above say why", FAILED)


@dashboards.command("export", help=EXPORT_HELP)
@click.argument("file", type=click.File("w"))
@click.option("--kibana", is_flag=True, help="The Kibana file instead of OpenSearch Dashboards'.")
@click.option("--prefix", default="cwl", show_default=True, envvar="LOGSHIP_PREFIX", help="The stack's IndexPrefix.")
def export(file: IO[str], kibana: bool, prefix: str) -> None:
    ndjson = _objects(kibana, _check_prefix(prefix))
    file.write(ndjson)
    if file.name != "<stdout>":
        click.echo(f"wrote {ndjson.count(chr(10))} saved objects for {prefix}-* to {file.name}", err=True)
