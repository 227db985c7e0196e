"""Retention: one policy deleting this stack's indices after ``IndexRetentionDays``, on every one of them.

ISM (OpenSearch, and Open Distro on Amazon's Elasticsearch domains) or ILM (Elasticsearch). Installing the
policy is not enough: ISM's ``ism_template`` reaches only indices created after the policy, and ILM's
``index.lifecycle.name`` in a template only new indices. So the policy is also attached to the stack's
existing indices, and, when it changed, ISM's indices are moved to the new version (ILM's follow by
themselves). Indices another policy manages are left to it and named in the report.

A cluster without a lifecycle API (``no handler found for uri``) is told apart from a cluster that refused
the policy: the first is a note, the second a :class:`RetentionRefusedError` with the cluster's own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import NotFoundError, TransportError

from logship.cluster.answers import ClusterAnswer, InstallError
from logship.core.indices import IndexNaming

# A data stream's write index rolls over daily (or at this size), so retention deletes whole days.
ROLLOVER_AGE = "1d"
ROLLOVER_SIZE = "50gb"
ISM_PRIORITY = 100
# Index names per request path: Elasticsearch's and OpenSearch's first request line is at most 4 KB.
_PATH_CHARS = 3000
_ATTACH_QUERY = {"allow_no_indices": "true", "ignore_unavailable": "true", "expand_wildcards": "open,closed"}


class RetentionRefusedError(InstallError):
    """The cluster has a lifecycle API and refused this policy (or attaching it): its reason, and what to do."""


def ism_policy(naming: IndexNaming, retention_days: int) -> dict[str, Any]:
    """ISM (OpenSearch): delete indices ``retention_days`` after creation; a data stream's also roll over daily.

    ISM matches a backing index's template by its data stream's name (index-management's
    ``findIndexLookupName``), so the streams' own names are the patterns.
    """
    hot_actions: list[dict[str, Any]] = []
    if naming.is_stream:
        hot_actions.append({"rollover": {"min_index_age": ROLLOVER_AGE, "min_size": ROLLOVER_SIZE}})
    return {"policy": {
        "description": f"logship: delete {naming.described} indices {retention_days} days after creation",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": hot_actions,
             "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{retention_days}d"}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        # One object, not a list: OpenSearch 1.0's ISM (and Open Distro's) reads only this form; later ones both.
        "ism_template": {"index_patterns": naming.patterns, "priority": ISM_PRIORITY},
    }}


def ilm_policy(retention_days: int, *, rollover: bool = False, version: tuple[int, ...] = ()) -> dict[str, Any]:
    """ILM (Elasticsearch): delete after ``retention_days``; with ``rollover`` (data streams) roll over daily first.

    In a rollover policy the delete phase's age counts from the rollover.
    """
    hot: dict[str, Any] = {}
    if rollover:
        size_key = "max_primary_shard_size" if version >= (7, 13) else "max_size"
        hot["rollover"] = {"max_age": ROLLOVER_AGE, size_key: ROLLOVER_SIZE}
    return {"policy": {"phases": {"hot": {"actions": hot},
                                  "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}}}}}


@dataclass
class RetentionOutcome:
    """The policy's name ("" when none was installed) and what was done or noted, for the install report."""

    policy: str = ""
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def install_retention(client: Any, lifecycle: str, naming: IndexNaming, retention_days: int,
                      version: tuple[int, ...] = ()) -> RetentionOutcome:
    """Install the policy at ``lifecycle`` (``_plugins/_ism``, ``_opendistro/_ism`` or ``_ilm``) and attach it
    to the stack's existing indices. Raises :class:`RetentionRefusedError` when the cluster refuses."""
    if lifecycle == "_ilm":
        return _install_ilm(client, naming, retention_days, version)
    return _install_ism(client, lifecycle, naming, retention_days)


def left_in_place(client: Any, lifecycle: str, naming: IndexNaming) -> str:
    """With no retention asked for: a note when an earlier install's policy is still there (it goes on deleting
    the stack's indices, new ones too), saying how to remove it; else ""."""
    path = f"/_ilm/policy/{naming.name}" if lifecycle == "_ilm" else f"/{lifecycle}/policies/{naming.name}"
    try:
        client.transport.perform_request("GET", path)
    except TransportError:
        return ""
    detach = (f"POST {','.join(naming.patterns)}/_ilm/remove" if lifecycle == "_ilm"
              else f"POST {lifecycle}/remove/{','.join(naming.patterns)}")
    return (f"retention: the policy {naming.name} an earlier install put in place is still there and goes on "
            f"deleting this stack's indices: to keep them, {detach}, then DELETE {path.lstrip('/')}")


def absent(lifecycle: str, answer: ClusterAnswer, naming: IndexNaming) -> RetentionOutcome:
    api = "ILM" if lifecycle == "_ilm" else "ISM"
    return RetentionOutcome(skipped=[
        f"retention: this cluster has no lifecycle API ({api}: {answer}); nothing will delete old "
        f"{naming.described} indices: delete them yourself, or install {api} and run the installer again"])


def refused(what: str, answer: ClusterAnswer, fix: str) -> RetentionRefusedError:
    return RetentionRefusedError(
        f"the cluster refused {what} ({answer}). {fix}. Or deploy with IndexRetentionDays=0 to install no "
        "retention policy and delete old indices yourself")


def _permission_fix(answer: ClusterAnswer, api: str) -> str:
    if answer.status in (401, 403):
        if api == "ISM":
            return ("The installer's role may not manage ISM policies: with fine-grained access control, map the "
                    "InstallIndexTemplate function's role to a role with the cluster permission "
                    "cluster:admin/opendistro/ism/* (policies, add, change_policy, explain), and on the stack's "
                    "indices indices:admin/opensearch/ism/managedindex")
        return ("The installer's credentials may not manage ILM: grant the cluster privilege manage_ilm, and on "
                "the stack's indices the index privileges manage_ilm and manage")
    return "Fix what the cluster names, then deploy again"


# ------------------------------------------------------------------------------------------------- ISM
def holds(stored: Any, sent: Any) -> bool:
    """Whether the policy ISM stored still says everything logship sent: every key sent with the same value, lists
    item by item. What ISM adds when it stores a policy (each action's ``retry``, a rollover's ``copy_alias``,
    ``last_updated_time``, ``schema_version``, ``ism_template`` as a list) does not make it different."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(holds(stored.get(key), value) for key, value in sent.items())
    if isinstance(sent, list):
        return isinstance(stored, list) and len(stored) == len(sent) and all(map(holds, stored, sent))
    return stored == sent


def _ism_holds(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    templates = stored.get("ism_template")
    stored = {**stored, "ism_template": templates[0] if isinstance(templates, list) and len(templates) == 1
              else templates}
    return holds(stored, sent)


def _install_ism(client: Any, base: str, naming: IndexNaming, days: int) -> RetentionOutcome:
    name, body = naming.name, ism_policy(naming, days)
    path = f"/{base}/policies/{name}"
    try:
        current = client.transport.perform_request("GET", path)
    except TransportError as exc:  # a missing policy is 404, but so is a missing ISM on some versions
        answer = ClusterAnswer.refusal(exc)
        if answer.unknown_path:
            return absent(base, answer, naming)
        if not isinstance(exc, NotFoundError):
            raise refused(f"reading the ISM policy {name}", answer, _permission_fix(answer, "ISM")) from exc
        current = None
    rolls = " (rolled over daily)" if naming.is_stream else ""
    outcome = RetentionOutcome(name)
    changed = current is not None and not _ism_holds(current.get("policy") or {}, body["policy"])
    if current is None or changed:
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]} if current else {}
        try:
            stored = client.transport.perform_request("PUT", path, params=params, body=body)
        except TransportError as exc:
            answer = ClusterAnswer.refusal(exc)
            raise refused(f"the ISM policy {name}", answer, _ism_fix(answer)) from exc
        verb = "updated" if current else "installed"
    else:
        stored, verb = current, "unchanged"
    outcome.done.append(f"ISM policy {name} {verb}: delete after {days} days{rolls}")
    _attach_ism(client, base, naming, stored, outcome)
    return outcome


def _ism_fix(answer: ClusterAnswer) -> str:
    if "please use a different priority" in answer.reason:
        return ("Another ISM policy's ism_template claims some of the same indices at the same priority "
                f"({ISM_PRIORITY}): give that policy another priority, or narrow its index_patterns")
    return _permission_fix(answer, "ISM")


def _attach_ism(client: Any, base: str, naming: IndexNaming, stored: dict[str, Any],
                outcome: RetentionOutcome) -> None:
    """Existing indices: unmanaged ones get the policy; ours on an older version of it move to this one."""
    name, patterns = naming.name, ",".join(naming.patterns)
    what = f"attaching the ISM policy {name} to the existing {naming.described} indices"
    try:
        added = client.transport.perform_request("POST", f"/{base}/add/{patterns}", body=ism_attach_body(name))
        explained = client.transport.perform_request("GET", f"/{base}/explain/{patterns}")
        others, outdated = _ism_states(explained, name, stored.get("_seq_no"))
        changed = sum(int(client.transport.perform_request("POST", f"/{base}/change_policy/{chunk}",
                                                           body=ism_attach_body(name)).get("updated_indices") or 0)
                      for chunk in _chunks(outdated))
    except TransportError as exc:
        answer = ClusterAnswer.refusal(exc)
        raise refused(what, answer, _permission_fix(answer, "ISM")) from exc
    updated = int(added.get("updated_indices") or 0)
    if updated:
        outcome.done.append(f"ISM policy {name} attached to {_indices(updated)} that existed before it")
    if changed:
        outcome.done.append(f"{_indices(changed)} moved to the policy's new version")
    if others:
        outcome.skipped.append(_left_to_others(others))


def _ism_states(explained: dict[str, Any], name: str, seq_no: Any) -> tuple[dict[str, str], list[str]]:
    """From ISM's explain: indices another policy manages ({index: policy}), and ours on an older version."""
    others, outdated = {}, []
    for index, state in explained.items():
        if not isinstance(state, dict):
            continue  # total_managed_indices
        policy = state.get("policy_id") or state.get("index.plugins.index_state_management.policy_id") \
            or state.get("index.opendistro.index_state_management.policy_id")
        if policy and policy != name:
            others[index] = str(policy)
        elif policy == name and "policy_seq_no" in state and state["policy_seq_no"] != seq_no:
            outdated.append(index)
    return others, sorted(outdated)


# ------------------------------------------------------------------------------------------------- ILM
def _install_ilm(client: Any, naming: IndexNaming, days: int, version: tuple[int, ...]) -> RetentionOutcome:
    name = naming.name
    body = ilm_policy(days, rollover=naming.is_stream, version=version)
    try:
        client.transport.perform_request("PUT", f"/_ilm/policy/{name}", body=body)
    except TransportError as exc:
        answer = ClusterAnswer.refusal(exc)
        if answer.unknown_path:
            return absent("_ilm", answer, naming)
        fix = _permission_fix(answer, "ILM") if answer.status in (401, 403) else (
            "The policy is logship's own: tell us the Elasticsearch version and this reason")
        raise refused(f"the ILM policy {name}", answer, fix) from exc
    rolls = " (rolled over daily)" if naming.is_stream else ""
    outcome = RetentionOutcome(name, [f"ILM policy {name}: delete after {days} days{rolls}"])
    _attach_ilm(client, naming, outcome)
    return outcome


def _attach_ilm(client: Any, naming: IndexNaming, outcome: RetentionOutcome) -> None:
    """Existing indices (a data stream's backing indices included) without a policy get this one.

    Those already on it follow its changes by themselves (ILM reads the policy anew at each phase). ILM's
    explain lists every index, managed or not; the settings API would leave out those without the setting.
    """
    name, patterns = naming.name, ",".join(naming.patterns)
    try:
        explained = client.transport.perform_request("GET", f"/{patterns}/_ilm/explain", params=_ATTACH_QUERY)
        unmanaged, others = [], {}
        for index, state in (explained.get("indices") or {}).items():
            policy = state.get("policy") if isinstance(state, dict) and state.get("managed") else None
            if not policy:
                unmanaged.append(index)
            elif policy != name:
                others[index] = str(policy)
        for chunk in _chunks(sorted(unmanaged)):
            client.transport.perform_request("PUT", f"/{chunk}/_settings", params=_ATTACH_QUERY,
                                             body=ilm_attach_settings(name))
    except TransportError as exc:
        answer = ClusterAnswer.refusal(exc)
        raise refused(f"attaching the ILM policy {name} to the existing {naming.described} indices", answer,
                      _permission_fix(answer, "ILM")) from exc
    if unmanaged:
        outcome.done.append(f"ILM policy {name} attached to {_indices(len(unmanaged))} that existed before it")
    if others:
        outcome.skipped.append(_left_to_others(others))


def ilm_attach_settings(policy: str) -> dict[str, Any]:
    """The settings that put an existing index under an ILM policy (PUT <index>/_settings)."""
    return {"index": {"lifecycle": {"name": policy}}}


def ism_attach_body(policy: str) -> dict[str, Any]:
    """What ISM's add and change_policy APIs take: the policy to manage the indices by."""
    return {"policy_id": policy}


# ----------------------------------------------------------------------------------------------- shared
def _chunks(indices: list[str]) -> list[str]:
    """Comma-joined index names, each list short enough for a request path."""
    chunks: list[str] = []
    for index in indices:
        if chunks and len(chunks[-1]) + len(index) < _PATH_CHARS:
            chunks[-1] += f",{index}"
        else:
            chunks.append(index)
    return chunks


def _indices(count: int) -> str:
    return f"{count} {'index' if count == 1 else 'indices'}"


def _left_to_others(others: dict[str, str]) -> str:
    shown = ", ".join(f"{index} ({policy})" for index, policy in sorted(others.items())[:5])
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    return (f"retention: {_indices(len(others))} of this stack kept on another policy, which decides when "
            f"they are deleted: {shown}{more}")
