"""``logship``: the command group, its error handling and exit codes (0 done, 1 failed, 2 usage)."""

from __future__ import annotations

from typing import Any

import click

from logship_cli.commands.backfill import backfill
from logship_cli.commands.dashboards import dashboards
from logship_cli.commands.doctor import doctor
from logship_cli.commands.init import init
from logship_cli.commands.redrive import redrive
from logship_cli.commands.replay import replay
from logship_cli.commands.search import search
from logship_cli.commands.setup_index import setup_index
from logship_cli.commands.status import status
from logship_cli.errors import explain

HELP = """One tool for the people who run logship: prepare a deploy and check what it needs, search what was
shipped, replay payloads, empty the dead-letter queue, subscribe and backfill log groups, check a deployed
stack, install the index template and the dashboards.

\b
Examples:
  logship init                                    # the parameters of a first deploy
  logship doctor                                  # what the deploy needs, before it or after it
  logship status                                  # the stack in samconfig.toml
  logship search 'log.level:ERROR' --since 1h
  logship redrive --dry-run
  logship backfill --since 7d --group /aws/lambda/orders-api

Exit codes: 0 done, 1 failed (the message says what to do next), 2 usage error.
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("logship")
    except PackageNotFoundError:  # run from the repository without `pip install -e .`
        return "(not installed)"


class LogshipGroup(click.Group):
    """Turns every error a user can meet into a message with the next step (``--debug`` shows tracebacks)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("logship.debug"):
                raise
            raise explain(exc, endpoint=ctx.meta.get("logship.endpoint", "")) from exc


@click.group(cls=LogshipGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"],
                                                            "max_content_width": 110})
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
@click.version_option(version=_version(), message="logship %(version)s")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    ctx.meta["logship.debug"] = debug


for command in (init, doctor, search, replay, redrive, backfill, status, setup_index, dashboards):
    main.add_command(command)


def run() -> int:
    """The console script ``logship`` (and ``python -m logship_cli``)."""
    return main.main(prog_name="logship")  # exits with the command's code
