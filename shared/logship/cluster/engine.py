"""What the cluster is: OpenSearch, Elasticsearch (default or OSS build) or OpenSearch Serverless, and its version.

Told by what each engine says of itself, never by a field it leaves out: OpenSearch names its distribution in
``GET /``, except with ``compatibility.override_main_response_version`` (AWS offers it on domains upgraded
from Elasticsearch; Logstash and Beats users turn it on), when it answers version ``7.10.2`` like
Elasticsearch 7.10. Its nodes still report their own version (``GET _nodes/_local``), which no Elasticsearch
7.10.2 node does, and its tagline stays OpenSearch's. The mapping types, lifecycle API and index settings
logship uses follow from the engine and version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opensearchpy.exceptions import TransportError

OPENSEARCH_TAGLINE = "The OpenSearch Project"
# The version OpenSearch claims in compatibility mode (OpenSearch's LegacyESVersion.V_7_10_2).
COMPATIBILITY_VERSION = (7, 10, 2)


def version_tuple(number: str) -> tuple[int, ...]:
    """``"2.11.0"`` -> (2, 11, 0); ``"8.15.0-SNAPSHOT"`` -> (8, 15, 0)."""
    return tuple(int(part) for part in number.split("-")[0].split(".")[:3] if part.isdigit())


@dataclass(frozen=True)
class Flavor:
    """What the cluster is, as far as mappings, retention and settings differ."""

    distribution: str  # "opensearch", "elasticsearch" or "serverless"
    version: tuple[int, ...] = ()
    build_flavor: str = "default"  # Elasticsearch's "default" (with X-Pack) or "oss" (Amazon's 7.x domains)
    compatibility_mode: bool = False  # OpenSearch answering GET / as Elasticsearch 7.10.2

    @property
    def json_type(self) -> dict[str, Any]:
        """One field for any JSON object: ``flattened`` (Elasticsearch 7.3+, X-Pack only) or ``flat_object``;
        elsewhere stored, not searchable.

        ``flat_object`` came in OpenSearch 2.7, but until 2.14 it refuses documents logship sends every day:
        keys with dots (``{"log.level": ...}``, as Elastic's ECS loggers write) until 2.12 (OpenSearch #11425),
        any key longer than 11 characters in 2.12 and 2.13 (#13184, fixed by #13259). Such a line would lose
        every field it has, so there ``json`` is kept but not searchable; logship's own fields still are.
        """
        if self.distribution == "elasticsearch" and self.build_flavor != "oss" and self.version >= (7, 3):
            return {"type": "flattened"}
        if self.distribution == "serverless" or (self.distribution == "opensearch" and self.version >= (2, 14)):
            return {"type": "flat_object"}
        return {"type": "object", "enabled": False}

    @property
    def lifecycle(self) -> str:
        """The retention API's path: ISM (OpenSearch; Open Distro's on OSS Elasticsearch), ILM, or none."""
        if self.distribution == "opensearch":
            return "_plugins/_ism"
        if self.distribution == "elasticsearch":
            return "_opendistro/_ism" if self.build_flavor == "oss" else "_ilm"
        return ""

    @property
    def sets_index_mode(self) -> bool:
        """Whether the template sets ``index.mode``: from Elasticsearch 8.17, where ``logsdb`` is generally
        available; Elasticsearch 9 makes a new ``logs-*-*`` data stream ``logsdb`` unless its template says.
        Before, the choice is ``standard`` anyway (8.15 and 8.16 had logsdb as a technical preview only)."""
        return self.distribution == "elasticsearch" and self.version >= (8, 17)

    @property
    def template_allows_auto_create(self) -> bool:
        """Whether a template may create its indices on a write even with ``action.auto_create_index: false``:
        ``allow_auto_create``, Elasticsearch 7.11 (elastic/elasticsearch#61858). OpenSearch has no such field."""
        return self.distribution == "elasticsearch" and self.version >= (7, 11)

    @property
    def described(self) -> str:
        name = {"opensearch": "OpenSearch", "elasticsearch": "Elasticsearch",
                "serverless": "OpenSearch Serverless"}.get(self.distribution, self.distribution)
        version = ".".join(map(str, self.version)) or ("(version unknown)" if self.distribution == "opensearch" else "")
        extra = (" (OSS build)" if self.distribution == "elasticsearch" and self.build_flavor == "oss" else "") + (
            " in compatibility mode (GET / answers 7.10.2)" if self.compatibility_mode else "")
        return f"{name} {version}{extra}".replace("  ", " ").strip()


def detect(client: Any, serverless: bool = False) -> Flavor:
    """Ask the cluster what it is. OpenSearch Serverless has no ``GET /``.

    Asked in plain JSON whatever the client's defaults, so that an Elasticsearch 7 (which refuses the
    compatibility headers) still says what it is, and the installer can say what to change.
    """
    if serverless:
        return Flavor("serverless")
    from logship.cluster.client import PLAIN_HEADERS

    root = client.info(headers=PLAIN_HEADERS)
    version = root.get("version") or {}
    number = version_tuple(str(version.get("number", "")))
    if version.get("distribution") == "opensearch":
        return Flavor("opensearch", number)
    opensearch_tagline = str(root.get("tagline", "")).startswith(OPENSEARCH_TAGLINE)
    if number[:3] == COMPATIBILITY_VERSION or opensearch_tagline:
        node_version = _node_version(client, PLAIN_HEADERS)
        if node_version and node_version != number:  # an Elasticsearch 7.10.2 node says 7.10.2
            return Flavor("opensearch", node_version, compatibility_mode=True)
        if opensearch_tagline:  # its nodes would not say: OpenSearch of a version unknown (install says so)
            return Flavor("opensearch", (), compatibility_mode=True)
    return Flavor("elasticsearch", number, str(version.get("build_flavor") or "default"))


def _node_version(client: Any, headers: dict[str, str]) -> tuple[int, ...]:
    """The version the answering node reports of itself, or () when the cluster will not say."""
    try:
        nodes = client.transport.perform_request("GET", "/_nodes/_local", params={"filter_path": "nodes.*.version"},
                                                 headers=headers).get("nodes") or {}
    except TransportError:
        return ()
    versions = {version_tuple(str(node.get("version", ""))) for node in nodes.values() if isinstance(node, dict)}
    return versions.pop() if len(versions) == 1 else ()
