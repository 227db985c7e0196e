"""``logship redrive``: replay the dead-letter queue once the cause is fixed (the layer's ``redrive.replay``)."""

from __future__ import annotations

import click

from logship_cli.context import Aws, Cluster, aws_options, cluster_options
from logship_cli.errors import FAILED, CliError
from logship_cli.render import advance, console, line, progress

HELP = """Replay the batches ship-logs could not index (the stack's dead-letter queue), once the cause is fixed:
each message's event is shipped again with the deployed shipper's own settings (endpoint, auth, prefix,
redaction, correlation keys) from this machine, and deleted only once fully indexed. Event ids make it safe
to run any number of times. --dry-run lists what failed and why, and changes nothing.

\b
Examples:
  logship redrive --dry-run                        # what failed, and why
  logship redrive                                  # replay, with the stack's settings
  logship redrive --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/q --function prod-ship-logs
  logship redrive --endpoint https://search-x.eu-west-1.es.amazonaws.com --auth sigv4
"""


def visible_messages(sqs: object, queue_url: str) -> int:
    """About how many messages wait (SQS's own estimate): the progress bar's length."""
    found = sqs.get_queue_attributes(QueueUrl=queue_url,  # type: ignore[attr-defined]
                                     AttributeNames=["ApproximateNumberOfMessages"])
    return int(found.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))


@click.command(help=HELP)
@click.option("--queue-url", metavar="URL", help="The queue (default: the stack's DeadLetterQueueUrl output).")
@click.option("--function", metavar="NAME", help="Replay with this deployed shipper's settings "
              "(default: the stack's ship-logs, unless --endpoint is given).")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True, help="At most this many messages.")
@click.option("--dry-run", is_flag=True, help="List what failed and why; change nothing.")
@click.option("--timeout", type=click.FloatRange(1), default=120.0, show_default=True, metavar="SECONDS",
              help="How long each batch may take, retries included (one still failing then stays in the queue).")
@cluster_options
@aws_options
@click.pass_context
def redrive(ctx: click.Context, queue_url: str | None, function: str | None, limit: int, dry_run: bool,
            timeout: float, cluster: Cluster, aws: Aws) -> None:
    from logship_cli.redrive import queue_region, replay

    queue_url = queue_url or aws.output("DeadLetterQueueUrl")
    aws = aws.in_region(queue_region(queue_url))
    shipper = None
    if not dry_run:
        from logship.cluster.client import connect
        from logship.ship.shipper import Shipper

        config = cluster.config(aws, function=function)
        ctx.meta["logship.endpoint"] = config.endpoint
        shipper = Shipper(config, *connect(config))
    sqs = aws.client("sqs")
    out = console()
    line(out, f"{'listing' if dry_run else 'replaying'} {queue_url}" + ("" if dry_run else f" into {config.endpoint}"))
    counts = {"replayed": 0, "kept": 0, "listed": 0}
    with progress(out, "messages", min(limit, visible_messages(sqs, queue_url))) as bar:
        for result in replay(sqs, queue_url, shipper, limit=limit, seconds_per_batch=timeout,
                             kinesis=aws.client("kinesis")):
            counts[result.outcome] += 1
            line(out, result.text)
            advance(bar)
    line(out, f"done: {counts['replayed']} replayed, {counts['kept']} kept in the queue, {counts['listed']} listed")
    if counts["kept"]:
        raise CliError(f"{counts['kept']} message(s) kept in the queue: their lines above say why", FAILED)
