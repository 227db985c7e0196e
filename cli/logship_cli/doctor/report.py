"""One run of ``logship doctor``: each check's state (ok, warn, fail), what was found, where it was seen, and what to
do next; what could not be checked, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where a check looked: your account's configuration (AWS APIs, with your credentials), the cluster asked from this
# machine (not from where the functions run), or what a deployed function last logged.
AWS = "AWS"
HERE = "from this machine"
LOGGED = "as the installer logged it"
_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@dataclass(frozen=True)
class Check:
    state: str  # ok | warn | fail
    name: str
    found: str
    next: str = ""  # one line: what to do next
    via: str = AWS


@dataclass
class Report:
    """The checks as they are made: ``report.ok("CloudTrail", "trail main logs ...")``."""

    checks: list[Check] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    def ok(self, name: str, found: str, next: str = "", via: str = AWS) -> None:
        self.checks.append(Check("ok", name, found, next, via))

    def warn(self, name: str, found: str, next: str, via: str = AWS) -> None:
        self.checks.append(Check("warn", name, found, next, via))

    def fail(self, name: str, found: str, next: str, via: str = AWS) -> None:
        self.checks.append(Check("fail", name, found, next, via))

    def skip(self, why: str) -> None:
        self.not_checked.append(why)

    def count(self, state: str) -> int:
        return sum(check.state == state for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.state == "fail"]

    def show(self, out: Any) -> None:
        """Each check on its line (its state first, as scripts grep it), then what to do on the next."""
        from logship_cli.render import line

        width = max((len(check.name) for check in self.checks), default=0)
        for check in self.checks:
            where = f" [{check.via}]" if check.via != AWS else ""
            line(out, f"{check.state:<4}  {check.name:<{width}}  {check.found}{where}", _STYLES[check.state])
            if check.next:
                line(out, f"{'':<4}  {'':<{width}}  next: {check.next}")
        if self.not_checked:
            line(out, "not checked:", "bold")
            for why in self.not_checked:
                line(out, f"  - {why}")
        line(out, f"{self.count('fail')} failed, {self.count('warn')} to look at, {self.count('ok')} ok", "bold")
