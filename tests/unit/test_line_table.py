"""The parser's table of families: every family a module defines is registered once, and each is offered the
lines it reads (a family left out of the table, or offered the wrong first characters, would read nothing)."""

from __future__ import annotations

import importlib
import pkgutil

import logship.ship.lines as lines_package
from logship.ship.lines import LineParser
from logship.ship.lines.family import Family
from logship.ship.lines.table import FAMILIES


def _defined() -> list[Family]:
    found = []
    for module in pkgutil.iter_modules(lines_package.__path__):
        loaded = importlib.import_module(f"logship.ship.lines.{module.name}")
        found += [value for value in vars(loaded).values() if isinstance(value, Family)]
    return found


def test_every_family_a_module_defines_is_in_the_table_once():
    defined = {id(family): family.name for family in _defined()}
    registered = [id(family) for family in FAMILIES]
    assert len(registered) == len(set(registered))
    assert set(registered) == set(defined), sorted(defined[key] for key in set(defined) - set(registered))


def test_each_family_says_how_its_lines_start():
    for family in FAMILIES:
        assert family.starts or family.first, family.name


def test_a_line_reaches_its_family_whatever_came_before_it_in_the_table():
    # One line per first-character route (a start, a digit, a hex letter, "[" , "{", ESC, a space, past ASCII).
    parse = LineParser().parse
    assert parse("START RequestId: r-1 Version: $LATEST")[1]["event"]["action"] == "start"
    assert parse("2024/01/15 10:00:00 hello")[1] == {"event": {"original": "2024/01/15 10:00:00 hello"}}
    assert parse("3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab INFO com.acme.Handler - ok")[1]["log"]["logger"] == \
        "com.acme.Handler"
    assert parse("[WARNING]\t2025-01-01T00:00:00.000Z\tr-1\tslow")[1]["log"]["level"] == "WARN"
    assert parse('{"level": "error", "message": "m"}')[1]["log"]["level"] == "ERROR"
    assert parse("\x1b[31mERROR\x1b[0m Lambda runtime invoke{requestId=\"r-2\"}: boom")[1]["faas"]["execution"] == "r-2"
    assert parse(" INFO Lambda runtime invoke{requestId=\"r-3\"}: ok")[1]["faas"]["execution"] == "r-3"
    assert parse("Ünïcode KeyError: 'x'")[1] == {}
    assert parse("KeyError: 'x'")[1]["error"] == {"type": "KeyError", "message": "'x'"}
