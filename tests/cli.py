"""Run the logship command in-process as a user would, with click's own runner: exit code, stdout, stderr."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner, Result

from logship_cli.app import main


def runner() -> CliRunner:
    """stdout and stderr apart (click 8.1 mixes them unless told; 8.2 keeps them apart and has no such switch)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def logship(*args: str, **invoke: Any) -> Result:
    """``logship ARGS``; ``result.output`` is what a terminal shows (both streams with click 8.2, stdout with 8.1)."""
    return runner().invoke(main, list(args), **invoke)
