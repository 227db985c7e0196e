"""What ``logship doctor`` checks: the deploy as samconfig.toml's config environment says it (before the deploy, as
``logship init`` writes it), or the stack as CloudFormation and its functions have it (after)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from logship_cli.context import Aws, Cluster
from logship_cli.errors import USAGE, CliError
from logship_cli.init import facts
from logship_cli.init import samconfig as config_file
from logship_cli.init.template import Parameter, parameters

# The cluster's settings as the template hands them to ship-logs and install-index-template, one parameter each.
SETTINGS = {"OpenSearchEndpoint": "OPENSEARCH_ENDPOINT", "ElasticCloudId": "ELASTIC_CLOUD_ID",
            "OpenSearchAuth": "OPENSEARCH_AUTH", "OpenSearchSecretArn": "OPENSEARCH_SECRET_ARN",
            "ClusterFlavor": "CLUSTER_FLAVOR", "CompressRequests": "COMPRESS_REQUESTS", "IndexPrefix": "INDEX_PREFIX",
            "IndexMode": "INDEX_MODE", "DataStreamDataset": "DATA_STREAM_DATASET",
            "DataStreamNamespace": "DATA_STREAM_NAMESPACE", "IngestPipeline": "INGEST_PIPELINE",
            "DocumentIds": "DOCUMENT_IDS", "IndexRetentionDays": "INDEX_RETENTION_DAYS",
            "ElasticsearchIndexMode": "ELASTICSEARCH_INDEX_MODE"}
# A stack in these states has no resources to check yet (a change set never run) or no more.
_NOT_THERE = ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")


@dataclass(frozen=True)
class Setup:
    """The stack's parameters (every one of the template's), and the cluster settings its functions run with."""

    stack: str
    region: str
    config_env: str
    parameters: dict[str, str]
    settings: dict[str, str]  # as the functions' environment names them (OPENSEARCH_ENDPOINT, ...)
    deployed: facts.Stack | None = None  # this stack, when it is the one checked
    others: list[facts.Stack] | str = field(default_factory=list)  # the region's other logship stacks, or why not
    given: dict[str, str] = field(default_factory=dict)  # the config environment's parameter_overrides (before)
    known: dict[str, Parameter] = field(default_factory=dict)  # the template's parameters
    updates: str = ""  # with --before-deploy, the deployed stack's state the config environment would update

    def __getitem__(self, name: str) -> str:
        return self.parameters.get(name, "")

    @property
    def outputs(self) -> dict[str, str]:
        return self.deployed.outputs if self.deployed else {}

    @property
    def ships(self) -> bool:
        """Whether this stack talks to a cluster (a member or a relay only sends to a destination)."""
        return self["Role"] in ("", "standalone", "central")

    @property
    def auth(self) -> str:
        return self.settings.get("OPENSEARCH_AUTH") or "sigv4"

    @property
    def endpoint(self) -> str:
        return self.settings.get("OPENSEARCH_ENDPOINT", "")

    @property
    def cloud_id(self) -> str:
        return self.settings.get("ELASTIC_CLOUD_ID", "")

    @property
    def subnets(self) -> tuple[str, ...]:
        return _ids(self["VpcSubnetIds"])

    @property
    def security_groups(self) -> tuple[str, ...]:
        return _ids(self["VpcSecurityGroupIds"])

    @property
    def per_group(self) -> bool:
        return self["SubscriptionMode"] in ("", "per-group")

    @property
    def described(self) -> str:
        if self.deployed:
            return f"stack {self.stack} in {self.region}, as deployed ({self.deployed.status})"
        if self.updates:
            return (f"stack {self.stack} in {self.region} ({self.updates}), as samconfig.toml [{self.config_env}] "
                    "would update it")
        return f"stack {self.stack} in {self.region}, as samconfig.toml [{self.config_env}] says (not deployed yet)"


def _ids(text: str) -> tuple[str, ...]:
    return tuple(filter(None, (part.strip() for part in text.split(","))))


def settings_of(parameters: dict[str, str], region: str) -> dict[str, str]:
    """The functions' cluster settings for ``parameters``, as the template sets them (each a parameter's value)."""
    return {"AWS_REGION": region} | {env: parameters[name] for name, env in SETTINGS.items() if parameters.get(name)}


def read(aws: Aws, config_env: str, path: Path, template: Path, planned: bool = False) -> Setup:
    """The deployed stack (unless ``planned``), else the config environment's parameters over the template's
    defaults (and over the stack's current values, which ``sam deploy`` keeps for parameters not given)."""
    stacks = facts.logship_stacks(aws)
    found = [s for s in stacks if s.name == aws.stack and s.status not in _NOT_THERE] if isinstance(stacks, list) \
        else []
    own = found[0] if found else None
    others = [s for s in stacks if s.name != aws.stack] if isinstance(stacks, list) else stacks
    given = config_file.read(config_env, path).overrides
    try:
        known = parameters(template)
    except CliError:
        if own is None or planned:
            raise
        known = {}  # a deployed stack says every parameter's value itself
    defaults = {name: spec.default for name, spec in known.items()}
    if own is not None and not planned:
        values = defaults | own.parameters
        return Setup(aws.stack, aws.region, config_env, values, _deployed_settings(aws, own, values), own, others,
                     known=known)
    if not given and own is None:
        raise CliError(f"nothing to check: {path} has no [{config_env}.deploy.parameters] parameter_overrides and "
                       f"stack {aws.stack} is not deployed in {aws.region}. Run `logship init` first (or give "
                       "--config-env, --stack, --region)", USAGE)
    values = defaults | (own.parameters if own else {}) | given
    return Setup(aws.stack, aws.region, config_env, values, settings_of(values, aws.region), None, others, given,
                 known, own.status if own else "")


def _deployed_settings(aws: Aws, own: facts.Stack, values: dict[str, str]) -> dict[str, str]:
    """What the installer (else the shipper) runs with: its own environment, as every command reads it."""
    for output in ("InstallIndexTemplateFunctionArn", "ShipLogsFunctionArn"):
        if own.outputs.get(output):
            return Cluster().settings(aws, output)
    return settings_of(values, aws.region)
