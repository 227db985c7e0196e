"""Every command explains itself with an example, and usage errors exit 2 with what is wrong."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from logship_cli.app import main
from logship_cli.context import Aws, SamDefaults
from logship_cli.timespec import parse_since
from tests.cli import logship


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path] if path else []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_is_there():
    assert sorted(commands()) == [("backfill",), ("dashboards",), ("dashboards", "export"), ("dashboards", "import"),
                                  ("doctor",), ("init",), ("redrive",), ("replay",), ("search",), ("setup-index",),
                                  ("status",)]


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_has_complete_help_with_an_example(command):
    result = logship(*command, "--help")

    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"logship {' '.join(command)}" in result.stdout.split("Examples:")[1]
    assert "Options:" in result.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["search", "--since", "yesterday"], "'yesterday' is neither a duration (30s, 15m, 1h, 2d, 1w) nor a date"),
    (["search", "--level", "LOUD"], "'LOUD' is not one of"),
    (["status", "--bogus"], "No such option: --bogus"),
    (["replay"], "Missing argument 'FILES...'"),
    (["replay", "/no/such/file.json"], "'/no/such/file.json' does not exist"),
    (["search", "--endpoint", "ftp://x", "--auth", "none"], "--endpoint (OPENSEARCH_ENDPOINT)='ftp://x' is not an "
                                                            "http(s) URL"),
    (["nope"], "No such command 'nope'"),
])
def test_usage_errors_exit_2_and_say_what_is_wrong(args, says):
    result = logship(*args)

    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_stack_name_anywhere_the_command_asks_for_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no samconfig.toml here
    monkeypatch.delenv("LOGSHIP_STACK", raising=False)

    result = logship("status", "--region", "eu-west-1")

    assert result.exit_code == 2
    assert "which stack? give --stack NAME" in result.stderr


def test_samconfig_gives_the_stack_and_region(tmp_path, monkeypatch):
    (tmp_path / "samconfig.toml").write_text('version = 0.1\n[default.global.parameters]\nstack_name = "prod"\n'
                                             '[default.deploy.parameters]\nregion = "ap-southeast-2"\n')
    monkeypatch.chdir(tmp_path)
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)

    aws = Aws(defaults=SamDefaults.read())

    assert (aws.stack, aws.region) == ("prod", "ap-southeast-2")
    assert Aws("other", "eu-west-1", SamDefaults.read()).stack == "other"


def test_the_repositorys_samconfig_names_the_default_stack():
    assert SamDefaults.read(Path(__file__).parents[2] / "samconfig.toml").stack_name == "logship"


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", 1_000_000_000_000 - 90_000), ("15m", 1_000_000_000_000 - 900_000),
    ("1h", 1_000_000_000_000 - 3_600_000), ("2d", 1_000_000_000_000 - 172_800_000),
    ("1w", 1_000_000_000_000 - 604_800_000),
    ("2025-11-22", 1763769600000), ("2025-11-22T10:00:00Z", 1763805600000),
    ("2025-11-22T12:00:00+02:00", 1763805600000),
])
def test_since_takes_durations_and_utc_dates(text, expected):
    assert parse_since(text, now=1_000_000_000) == expected
