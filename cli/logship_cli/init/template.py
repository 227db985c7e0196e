"""template.yaml's parameters, read as CloudFormation checks them: a value init writes must pass before it is written.

Read from the template itself (its ``Parameters``: AllowedValues, AllowedPattern, MinValue and MaxValue), so a
parameter changed there is checked as it now is; the template's Rules are the tests' (tests/template_stack.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logship_cli.errors import USAGE, CliError

TEMPLATE = Path("template.yaml")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # String, Number, CommaDelimitedList
    default: str = ""
    allowed: tuple[str, ...] = ()
    pattern: str = ""
    minimum: float | None = None
    maximum: float | None = None
    constraint: str = ""

    def problem(self, value: str) -> str:
        """Why CloudFormation would refuse ``value``, or ""."""
        if self.allowed and value not in self.allowed:
            return f"{self.name}={value!r} is not one of {', '.join(self.allowed)}"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return f"{self.name}={value!r} is refused by the template: {self.constraint or 'pattern ' + self.pattern}"
        if self.kind == "Number":
            try:
                number = float(value)
            except ValueError:
                return f"{self.name}={value!r} is not a number"
            if self.minimum is not None and number < self.minimum:
                return f"{self.name}={value} is below the template's MinValue {self.minimum:g}"
            if self.maximum is not None and number > self.maximum:
                return f"{self.name}={value} is above the template's MaxValue {self.maximum:g}"
        return ""


def _loader() -> type:
    """yaml's SafeLoader, with CloudFormation's short tags (``!Ref``, ``!If``...) read as ``{tag: value}``."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", intrinsic)
    return Loader


def parameters(path: Path = TEMPLATE) -> dict[str, Parameter]:
    """Every parameter of the template at ``path``, e.g. ``parameters()["OpenSearchAuth"].allowed``."""
    import yaml

    try:  # a SafeLoader's subclass: CloudFormation's tags are read as data, nothing is constructed
        document = yaml.load(path.read_text(), Loader=_loader())
    except OSError:
        raise CliError(f"no {path} here: run `logship init` in the logship folder (where template.yaml and "
                       "samconfig.toml are, and where `sam deploy` runs), or give --template", USAGE) from None
    found = {}
    for name, spec in (document or {}).get("Parameters", {}).items():
        found[name] = Parameter(
            name, str(spec.get("Type", "String")), str(spec.get("Default", "")),
            tuple(str(v) for v in spec.get("AllowedValues", ())), str(spec.get("AllowedPattern", "")),
            float(spec["MinValue"]) if "MinValue" in spec else None,
            float(spec["MaxValue"]) if "MaxValue" in spec else None, str(spec.get("ConstraintDescription", "")))
    return found


def refusals(chosen: dict[str, str], known: dict[str, Parameter]) -> list[str]:
    """What the template would refuse of ``chosen``: unknown names, values outside their constraints."""
    found = []
    for name, value in chosen.items():
        if name not in known:
            found.append(f"{name} is not a parameter of template.yaml (is it older than this command?)")
        elif problem := known[name].problem(value):
            found.append(problem)
    return found
