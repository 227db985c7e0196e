"""Where a command acts: the AWS account and stack, and the cluster, from options, samconfig.toml and the stack.

A deployed stack knows its own settings: its outputs (CloudFormation DescribeStacks) name the queues and
functions, and each function's environment (Lambda GetFunctionConfiguration) holds the endpoint, auth, index
prefix and subscription settings, so ``logship status`` or ``logship search error`` need no other option.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from logship.core.config import AUTH_MODES, ShipperConfig, SubscriberConfig
from logship_cli.errors import USAGE, CliError

SAMCONFIG = Path("samconfig.toml")
# Calls a person waits on: a few retries of throttling; an Invoke may run for the function's whole timeout.
_READ_TIMEOUT_S = {"lambda": 910}


@dataclass(frozen=True)
class SamDefaults:
    """``stack_name`` and ``region`` from samconfig.toml (``sam deploy --guided`` writes them there)."""

    stack_name: str | None = None
    region: str | None = None

    @classmethod
    def read(cls, path: Path = SAMCONFIG) -> SamDefaults:
        try:
            config = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            return cls()
        default = config.get("default", {})
        found: dict[str, str] = {}
        for section in ("global", "deploy"):  # deploy's own values win, as in sam
            found |= {k: v for k, v in default.get(section, {}).get("parameters", {}).items() if isinstance(v, str)}
        return cls(found.get("stack_name"), found.get("region"))


class Aws:
    """The account, region and stack a command acts on; clients and the stack's outputs are fetched on first use."""

    def __init__(self, stack: str | None = None, region: str | None = None,
                 defaults: SamDefaults | None = None) -> None:
        self._stack = stack
        self._region = region
        self._defaults = defaults if defaults is not None else SamDefaults.read()
        self._outputs: dict[str, str] | None = None
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        """--region, samconfig.toml's region, AWS_REGION, AWS_DEFAULT_REGION, then your AWS profile's."""
        found = self.region_if_known()
        if not found:
            raise CliError("no AWS region: give --region, or set AWS_REGION, or a region in samconfig.toml", USAGE)
        return found

    def region_if_known(self) -> str | None:
        if self._region is None:
            import boto3

            self._region = (self._defaults.region or os.environ.get("AWS_REGION")
                            or os.environ.get("AWS_DEFAULT_REGION") or boto3.session.Session().region_name or "")
        return self._region or None

    @property
    def stack(self) -> str:
        """--stack (or LOGSHIP_STACK), else samconfig.toml's stack_name."""
        name = self._stack or self._defaults.stack_name
        if not name:
            raise CliError("which stack? give --stack NAME (or set LOGSHIP_STACK, or run from the folder with "
                           "samconfig.toml)", USAGE)
        return name

    def in_region(self, region: str) -> Aws:
        """The same stack and settings, in ``region`` (a queue URL names its own)."""
        return self if region == self.region_if_known() else Aws(self._stack, region, self._defaults)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in :attr:`region`, with your credentials (AWS_PROFILE, SSO, keys)."""
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5,
                            read_timeout=_READ_TIMEOUT_S.get(service, 30))
            self._clients[service] = boto3.session.Session(region_name=self.region).client(service, config=config)
        return self._clients[service]

    def outputs(self) -> dict[str, str]:
        """The stack's outputs (DescribeStacks), read once."""
        if self._outputs is None:
            from botocore.exceptions import ClientError

            try:
                stacks = self.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
            except ClientError as exc:
                if "does not exist" in str(exc):
                    raise CliError(f"stack {self.stack!r} not found in {self.region}: deploy it (make deploy), or "
                                   "give the right --stack and --region") from None
                raise
            self._outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        return self._outputs

    def output(self, key: str) -> str:
        value = self.outputs().get(key)
        if not value:
            raise CliError(f"stack {self.stack!r} has no output {key}: is it a logship stack, deployed from this "
                           "template.yaml?")
        return value

    def function_environment(self, output_key: str) -> dict[str, str]:
        """A deployed function's environment: the settings it runs with (``output_key`` names the function)."""
        return self.environment_of(self.output(output_key), f"output {output_key} of stack {self.stack!r}")

    def environment_of(self, name: str, known_as: str = "given") -> dict[str, str]:
        """The environment of the function ``name`` (a name or an ARN)."""
        from botocore.exceptions import ClientError

        try:
            found = self.client("lambda").get_function_configuration(FunctionName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise CliError(f"function {name} ({known_as}) does not exist in {self.region}: check the name and "
                               "--region (or redeploy the stack)") from None
            raise
        return {"AWS_REGION": self.region, **found.get("Environment", {}).get("Variables", {})}

    def subscriber_config(self) -> SubscriberConfig:
        """What the stack subscribes, and to where: reconcile-subscriptions' own settings."""
        return SubscriberConfig.from_env(self.function_environment("ReconcileSubscriptionsFunctionArn"))


# With --endpoint or --cloud-id (no deployed function to read), the cluster's other settings come from these
# environment variables: the names template.yaml gives the functions, e.g. INDEX_MODE=datastream.
FROM_ENVIRONMENT = ("INDEX_MODE", "DATA_STREAM_DATASET", "DATA_STREAM_NAMESPACE", "CLUSTER_FLAVOR", "COMPRESS_REQUESTS",
                    "INGEST_PIPELINE", "DOCUMENT_IDS")


@dataclass(frozen=True)
class Cluster:
    """The OpenSearch/Elasticsearch options; what is not given comes from the deployed shipper's settings."""

    endpoint: str | None = None
    auth: str | None = None
    secret_arn: str | None = None
    prefix: str | None = None
    cloud_id: str | None = None

    def settings(self, aws: Aws, function_output: str = "ShipLogsFunctionArn",
                 function: str | None = None) -> dict[str, str]:
        """Environment-style settings, the options over a deployed function's: ``function`` (a name), else the
        stack's ``function_output`` when there is no --endpoint."""
        if function:
            env = aws.environment_of(function)
        elif self.endpoint or self.cloud_id:
            env = {"AWS_REGION": aws.region_if_known() or "us-east-1"} | {
                name: os.environ[name] for name in FROM_ENVIRONMENT if os.environ.get(name)}
        else:
            env = aws.function_environment(function_output)
        if self.endpoint or self.cloud_id:  # one way to the cluster: the one given replaces the stack's
            env = {key: value for key, value in env.items() if key not in ("OPENSEARCH_ENDPOINT", "ELASTIC_CLOUD_ID")}
        given = {"OPENSEARCH_ENDPOINT": self.endpoint, "ELASTIC_CLOUD_ID": self.cloud_id, "OPENSEARCH_AUTH": self.auth,
                 "OPENSEARCH_SECRET_ARN": self.secret_arn, "INDEX_PREFIX": self.prefix}
        return env | {key: value for key, value in given.items() if value}

    def config(self, aws: Aws, function_output: str = "ShipLogsFunctionArn",
               function: str | None = None) -> ShipperConfig:
        return ShipperConfig.from_env(self.settings(aws, function_output, function))


def connect(config: ShipperConfig, timeout_s: float = 30.0) -> Any:
    """The layer's client for ``config`` (the same code the functions use: auth, bounded requests)."""
    from logship.cluster.client import build_client

    return build_client(config, timeout_s=timeout_s)


def aws_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--stack`` and ``--region``, handed to the command as ``aws``."""
    @click.option("--region", metavar="REGION", help="AWS region (default: samconfig.toml, then AWS_REGION).")
    @click.option("--stack", envvar="LOGSHIP_STACK", metavar="NAME",
                  help="The logship stack (default: LOGSHIP_STACK, then samconfig.toml's stack_name).")
    @functools.wraps(command)
    def wrapper(*args: Any, stack: str | None, region: str | None, **kwargs: Any) -> Any:
        return command(*args, aws=Aws(stack, region), **kwargs)

    return wrapper


def cluster_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--endpoint`` or ``--cloud-id``, ``--auth``, ``--secret-arn``, ``--prefix``, handed on as ``cluster``."""
    @click.option("--prefix", envvar="LOGSHIP_PREFIX", metavar="PREFIX",
                  help="Index prefix (default: the stack's IndexPrefix, or cwl with --endpoint).")
    @click.option("--secret-arn", envvar="LOGSHIP_SECRET_ARN", metavar="ARN",
                  help='For --auth basic: a Secrets Manager secret {"username": ..., "password": ...}; for --auth '
                       'apikey: {"id": ..., "api_key": ...} or {"encoded": ...}.')
    @click.option("--auth", envvar="LOGSHIP_AUTH", type=click.Choice(AUTH_MODES),
                  help="sigv4 (your AWS credentials), basic or apikey (--secret-arn), or none (default: the stack's, "
                       "or sigv4).")
    @click.option("--cloud-id", envvar="LOGSHIP_CLOUD_ID", metavar="ID",
                  help="An Elastic Cloud id instead of --endpoint (the deployment's page in Elastic Cloud shows it).")
    @click.option("--endpoint", envvar="LOGSHIP_ENDPOINT", metavar="URL",
                  help="OpenSearch/Elasticsearch URL (default: the stack's OpenSearchEndpoint).")
    @functools.wraps(command)
    def wrapper(*args: Any, endpoint: str | None, cloud_id: str | None, auth: str | None, secret_arn: str | None,
                prefix: str | None, **kwargs: Any) -> Any:
        return command(*args, cluster=Cluster(endpoint, auth, secret_arn, prefix, cloud_id), **kwargs)

    return wrapper

