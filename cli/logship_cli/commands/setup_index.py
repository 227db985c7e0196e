"""``logship setup-index``: the index template and retention policy, with the installer function's own code."""

from __future__ import annotations

import click

from logship_cli.context import Aws, Cluster, aws_options, cluster_options, connect
from logship_cli.errors import CliError
from logship_cli.render import console, line

HELP = """Install (or update) the index template for <prefix>-2* and <prefix>-failed-* (or the data streams,
IndexMode=datastream) and the retention policy (ISM on OpenSearch, ILM on Elasticsearch), put on the existing
indices too: what the stack's install-index-template custom resource does at deploy, for a cluster you manage
yourself or a stack deployed with InstallIndexTemplate=false. A cluster that refuses the policy fails with its
own reason. Safe to run any number of times.

\b
Examples:
  logship setup-index                              # the stack's endpoint, auth, prefix and retention
  logship setup-index --endpoint https://search-x.eu-west-1.es.amazonaws.com --auth sigv4 --prefix cwl
  logship setup-index --endpoint https://es.example.com --auth basic \\
      --secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship-es --retention-days 90
  logship setup-index --endpoint http://127.0.0.1:9200 --auth none
"""


@click.command("setup-index", help=HELP)
@click.option("--retention-days", type=click.IntRange(0), metavar="DAYS",
              help="Delete indices this many days after creation; 0: install no retention policy (default: the "
              "stack's IndexRetentionDays, or 30).")
@cluster_options
@aws_options
@click.pass_context
def setup_index(ctx: click.Context, retention_days: int | None, cluster: Cluster, aws: Aws) -> None:
    from logship.cluster.index_template import failure_reason, install_configured
    from logship.core.config import ShipperConfig

    settings = cluster.settings(aws, "InstallIndexTemplateFunctionArn")
    if retention_days is not None:
        settings["INDEX_RETENTION_DAYS"] = str(retention_days)
    config = ShipperConfig.from_env(settings)
    ctx.meta["logship.endpoint"] = config.endpoint
    out = console()
    line(out, f"==> installing the index template for {config.naming.described} on {config.endpoint}")
    try:
        report = install_configured(connect(config), config)
    except Exception as exc:  # unreachable, refused, a secret that cannot be read: the installer's own words
        raise CliError(f"failed: {failure_reason(exc, config.endpoint, None)}") from exc
    for done in report.done:
        line(out, f"    done:    {done}")
    for skipped in report.skipped:
        line(out, f"    skipped: {skipped}")
