"""SubscriptionMode=account-policy: one account-level subscription filter policy delivers every log group.

CloudWatch Logs allows one such policy per account and region, and its ``selectionCriteria`` can only exclude
exact names (``LogGroupName NOT IN [...]``, at most 25 KB). So the policy excludes logship's own groups and the
exact names of ``ExcludeLogGroups``; ship-logs drops what the selection leaves out beyond that (globs, names
outside ``IncludePrefixes``, another logship stack's groups). Before the stack creates the policy
(``AWS::Logs::AccountPolicy``), a custom resource checks that no other policy holds the account's one place,
and writes the policy's document and criteria, so a second stack refuses at deploy with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

POLICY_TYPE = "SUBSCRIPTION_FILTER_POLICY"
CRITERIA_BYTES = 25 * 1024  # PutAccountPolicy: "The selectionCriteria string can be up to 25KB in length"
_GLOB = frozenset("*?[")


class PolicyError(ValueError):
    """The account policy cannot be created as asked: the reason, and what to do."""


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """A subscription filter policy as DescribeAccountPolicies gives it."""

    name: str
    destination_arn: str
    filter_pattern: str
    updated_ms: int
    selection_criteria: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> AccountPolicy:
        try:
            document = json.loads(raw.get("policyDocument") or "{}")
        except ValueError:
            document = {}
        return cls(str(raw.get("policyName", "")), str(document.get("DestinationArn", "")),
                   str(document.get("FilterPattern", "")), int(raw.get("lastUpdatedTime") or 0),
                   str(raw.get("selectionCriteria") or ""))

    def excludes(self, group: str) -> bool:
        """Whether the criteria name ``group`` (the only form they take: ``LogGroupName NOT IN [...]``)."""
        _, _, names = self.selection_criteria.partition("NOT IN")
        try:
            return group in json.loads(names.strip() or "[]")
        except ValueError:
            return False


def policy_document(destination_arn: str, filter_pattern: str, role_arn: str = "") -> str:
    """The policy's JSON: ship-logs as the destination (a Lambda function takes no RoleArn), or the stack's
    stream with the role CloudWatch Logs assumes to write to it."""
    document = {"DestinationArn": destination_arn, "FilterPattern": filter_pattern}
    return json.dumps(document | {"RoleArn": role_arn} if role_arn else document)


def selection_criteria(own_groups: Iterable[str], exclude: Iterable[str]) -> str:
    """``LogGroupName NOT IN [...]``: logship's own groups and the exact names among the exclusions.

    Raises :class:`PolicyError` past the API's 25 KB.
    """
    names = sorted({*own_groups, *(glob for glob in exclude if not _GLOB & set(glob))} - {""})
    criteria = f"LogGroupName NOT IN {json.dumps(names)}"
    size = len(criteria.encode())
    if size > CRITERIA_BYTES:
        raise PolicyError(f"the account policy's selectionCriteria would be {size} bytes (CloudWatch Logs takes at "
                          f"most {CRITERIA_BYTES}): list fewer exact names in ExcludeLogGroups (a glob such as "
                          "/aws/lambda/legacy-* costs nothing there: ship-logs drops those groups itself)")
    return criteria


def subscription_policies(call: Callable[..., dict[str, Any]]) -> list[AccountPolicy]:
    """Every subscription filter policy of the account and region (there is at most one today)."""
    found: list[AccountPolicy] = []
    params: dict[str, Any] = {"policyType": POLICY_TYPE}
    while True:
        page = call("DescribeAccountPolicies", **params)
        found += [AccountPolicy.from_api(raw) for raw in page.get("accountPolicies", [])]
        if not page.get("nextToken"):
            return found
        params["nextToken"] = page["nextToken"]


def check_vacancy(policies: list[AccountPolicy], ours: str, region: str) -> None:
    """Raise :class:`PolicyError` if another policy holds the account's one subscription filter policy."""
    others = [p for p in policies if p.name != ours]
    if others:
        other = others[0]
        raise PolicyError(
            f"account policy {other.name!r} (to {other.destination_arn or 'an unknown destination'}) already "
            f"delivers this account's log groups in {region}, and CloudWatch Logs allows one subscription filter "
            "policy per account and region. Deploy this stack with SubscriptionMode=per-group, or delete that "
            f"policy first (aws logs delete-account-policy --policy-name {other.name} --policy-type {POLICY_TYPE})")
