"""samconfig.toml, one named config environment at a time: ``[<env>.deploy.parameters]`` as ``sam deploy`` reads it.

Written with tomlkit (SAM CLI's own TOML library), so the file's other environments, keys and comments stay as
they were. ``parameter_overrides`` is kept in the form ``sam deploy --guided`` writes (``Key="value" ...``, a
``"`` in a value escaped as ``\\"``); the pairs init does not set are carried over as they were written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logship_cli.errors import USAGE, CliError

SAMCONFIG = Path("samconfig.toml")
# A SAM template (Transform) that creates IAM roles without names: what sam deploy must be allowed to do.
CAPABILITIES = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
# One Key=value of parameter_overrides, as SAM CLI parses them (samcli.cli.types.CfnParameterOverridesType): a
# value double- or single-quoted (backslash escapes), or a run of characters without spaces or quotes.
_PAIR = re.compile(r"""\s*([A-Za-z0-9]+)=("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|(?:\\.|[^\s"'\\])+|)(?=\s|$)""")


@dataclass
class Environment:
    """One config environment of samconfig.toml: its deploy parameters and its parameter overrides."""

    name: str
    deploy: dict[str, Any] = field(default_factory=dict)  # [<env>.deploy.parameters], overrides excepted
    stack_name: str = ""  # deploy's, else global's (sam's order)
    region: str = ""
    overrides: dict[str, str] = field(default_factory=dict)  # parameter -> value, unquoted
    raw: dict[str, str] = field(default_factory=dict)  # parameter -> the pair as written, to carry it over

    @property
    def exists(self) -> bool:
        return bool(self.deploy or self.overrides)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        token = token[1:-1]
    return token.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


def quote(value: str) -> str:
    """A value as ``sam deploy --guided`` writes it: in double quotes, ``"`` escaped.

    SAM CLI reads ``\\"`` as a quote and has no escape for a backslash, so a value with one is refused (init
    writes endpoints, ARNs and ids, which have none).
    """
    if "\\" in value:
        raise CliError(f"{value!r} has a backslash, which samconfig.toml's parameter_overrides cannot carry", USAGE)
    return '"{}"'.format(value.replace('"', '\\"'))


def parse_overrides(written: Any, path: Path, env: str) -> dict[str, str]:
    """``{parameter: the pair as written}`` from a string (``A="x" B=y``) or a list (``["A=x", ...]``)."""
    pairs: dict[str, str] = {}
    if isinstance(written, list):
        for item in written:
            key, equals, _ = str(item).partition("=")
            if not equals:
                raise _unreadable(path, env, str(item))
            pairs[key.strip()] = str(item)
        return pairs
    text, position = str(written or ""), 0
    while text[position:].strip():
        match = _PAIR.match(text, position)
        if not match:
            raise _unreadable(path, env, text[position:position + 60])
        pairs[match[1]] = match[0].strip()
        position = match.end()
    return pairs


def _unreadable(path: Path, env: str, near: str) -> CliError:
    return CliError(f"{path} [{env}.deploy.parameters] parameter_overrides is not in the Key=\"value\" form "
                    f"init reads (near {near!r}): write it so, or give another --config-env", USAGE)


def _value(pair: str) -> str:
    return _unquote(pair.partition("=")[2].strip())


def read(env: str, path: Path = SAMCONFIG) -> Environment:
    """The environment ``env`` of ``path``, empty when the file or the environment is not there."""
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text()).unwrap()
    except FileNotFoundError:
        return Environment(env)
    except (OSError, ValueError) as exc:  # tomlkit's parse errors are ValueErrors
        raise CliError(f"cannot read {path}: {exc}; fix it, or give another --config-file", USAGE) from None
    section = document.get(env, {})
    deploy = dict(section.get("deploy", {}).get("parameters", {}))
    shared = section.get("global", {}).get("parameters", {})
    raw = parse_overrides(deploy.pop("parameter_overrides", ""), path, env)
    return Environment(env, deploy, str(deploy.get("stack_name") or shared.get("stack_name") or ""),
                       str(deploy.get("region") or shared.get("region") or ""),
                       {key: _value(pair) for key, pair in raw.items()}, raw)


def overrides_text(previous: Environment, chosen: dict[str, str], cleared: set[str]) -> str:
    """The environment's parameter_overrides with ``chosen`` set: its other pairs as they were, in their order,
    ``cleared`` ones written empty (``Key=""``: an existing stack would otherwise keep their previous values)."""
    values = {key: None for key in previous.raw} | dict.fromkeys(cleared, "") | chosen
    return " ".join(previous.raw[key] if value is None else f"{key}={quote(value)}" for key, value in values.items())


def write(env: str, stack: str, region: str, chosen: dict[str, str], cleared: set[str],
          path: Path = SAMCONFIG) -> Environment:
    """Set ``[<env>.deploy.parameters]`` in ``path`` (created if need be), everything else of the file kept."""
    import tomlkit

    previous = read(env, path)
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    if "version" not in document:
        document.add("version", 0.1)
    table = _table(document, env, "deploy", "parameters")
    table["stack_name"] = stack
    table["region"] = region
    table.setdefault("capabilities", CAPABILITIES)
    table.setdefault("confirm_changeset", True)
    table.setdefault("resolve_s3", True)
    table["parameter_overrides"] = overrides_text(previous, chosen, cleared)
    path.write_text(tomlkit.dumps(document))
    return read(env, path)


def _table(document: Any, *keys: str) -> Any:
    """The table at ``[a.b.c]``, made (as a dotted header, the way SAM writes them) where it is missing."""
    import tomlkit

    node = document
    for depth, key in enumerate(keys):
        if key not in node:
            node.append(key, tomlkit.table(is_super_table=depth < len(keys) - 1))
        node = node[key]
    return node
