"""How the command shows things: plain lines for scripts, rich tables and progress bars for people.

Consoles are made per call, on the streams of the moment (so click's test runner sees the output too).
Progress bars draw only on a terminal; piped output gets the plain lines alone.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

_PIPED_WIDTH = 160  # wide enough for a table row per group when the output is a file or a pipe


def console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(file=stream, highlight=False, width=None if terminal else _PIPED_WIDTH,
                   force_terminal=terminal, no_color=not terminal)


def progress(out: Console, what: str, total: int | None) -> Progress:
    """A bar counting ``what``; invisible unless ``out`` is a terminal."""
    bar = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=out, transient=True, disable=not out.is_terminal)
    bar.add_task(what, total=total)
    return bar


def advance(bar: Progress, n: int = 1) -> None:
    bar.advance(bar.task_ids[0], n)


def table(out: Console, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    out.print(grid, markup=False)


def line(out: Console, text: str, style: str | None = None) -> None:
    """One line of text as it is: never read as rich markup (log lines are full of brackets)."""
    out.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


class JsonLines(io.TextIOBase):
    """A stream for the layer's ``emit``: each JSON line it writes is handed, parsed, to ``on_record``."""

    def __init__(self, on_record: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self._on_record = on_record
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        for raw in complete:
            if raw.strip():
                try:
                    record = json.loads(raw)
                except ValueError:
                    record = {"text": raw}
                self._on_record(record if isinstance(record, dict) else {"text": raw})
        return len(text)
