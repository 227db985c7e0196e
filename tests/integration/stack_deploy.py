"""template.yaml deployed into moto's CloudFormation as ``sam deploy`` deploys it, and deleted again.

The template SAM's transform makes for the stack's parameters (tests/template_stack.py ``transformed``), uploaded
to S3 and created with ``CreateStack`` on a moto server: every resource is made by moto's own CloudFormation
from the template's properties, every ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and condition resolved by it.

What moto (5.2.x, moto/cloudformation) does otherwise than CloudFormation, and is taught here:

- ``!Ref AWS::NoValue`` in a list is kept as ``null`` (CloudFormation removes the element: "Pseudo parameters
  reference", AWS::NoValue).
- ``AWS::Lambda::LayerVersion``: moto's ``Ref`` is its object (CloudFormation's: the version's ARN, resource
  reference "Return values"), it names the layer from a property ``LayerVersion`` (CloudFormation's is
  ``LayerName``), and deleting the stack leaves the version (a stack's layer versions are deleted with it unless
  retained).
- Custom resources: moto invokes the function in a thread and marks the resource done when an answer reaches
  its ``cfnresponse`` URL, resolving dependants' ``Fn::GetAtt`` before then (as ``null``), ignoring ``FAILED``
  and the answer's ``PhysicalResourceId``, and sending no ``Delete``. Here the stack's own handler runs, as its
  function's role (the role CloudFormation made from the template, assumed in moto), before any dependant is
  created; it answers at moto's URL over HTTP; ``FAILED`` fails the stack with the handler's reason; the
  physical id is the one it answered; deleting the stack sends ``Delete`` ("Custom resources", request types).
- Deletion: moto deletes in no particular order, retrying what fails; CloudFormation deletes a resource only
  after everything that depends on it (``DependsOn``, ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``), and stops at the
  first failure (DELETE_FAILED).
- Parameters and rules: moto checks neither a parameter's ``AllowedValues``/``AllowedPattern``/``MinValue``/
  ``MaxValue`` nor the template's ``Rules``; CloudFormation refuses the stack (tests/template_stack.py ``refused``).
- Number parameters: moto's ``Ref`` gives a number; CloudFormation's gives the text ("Parameters": "when you use
  the parameter elsewhere in your template (for example, by using the Ref intrinsic function), the parameter
  value becomes a string"), and ``Fn::Equals`` compares text.
- ``AWS::IAM::Role``: moto keeps an inline policy's document as an object, which its own IAM checks cannot read,
  and attaches none of ``ManagedPolicyArns``; here the documents are JSON text, as IAM stores them, and the managed
  policies (AWS's, loaded in moto) are attached.
- ``AWS::Lambda::Function``: moto leaves out ``Tags``, ``Layers``, ``Architectures`` and ``LoggingConfig``; they are
  set here as the API sets them. Invoking a logship function (CloudWatch Logs delivering, EventBridge, a custom
  resource, a caller) runs its handler from this checkout (:func:`run_function`).
- Six types moto has no CloudFormation model for (``AWS::CloudWatch::Alarm``, ``AWS::Logs::Destination``,
  ``AWS::Logs::AccountPolicy``, ``AWS::Lambda::EventInvokeConfig``, ``AWS::S3::BucketPolicy``,
  ``AWS::CloudTrail::Trail``; it warns and creates nothing): each is created through its service's API in moto
  with the resolved properties (API parameter names are the properties', CloudFormation's registry schema for
  ``Ref``, the primary identifier, and the ``Fn::GetAtt`` attributes, its read-only properties), and deleted so.

Every resource's resolved properties are converted to the types CloudFormation's registry schema gives them (as
CloudFormation converts "14" for an integer) and validated against that schema (the schemas cfn-lint ships): a
value of the wrong type or an unknown property fails the deploy here as it would there.
The functions' code in S3 is a placeholder package: what runs for an invocation is the handler from this checkout.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import boto3
import pytest
import regex
from botocore.session import get_session
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER
from jsonschema import Draft7Validator, ValidationError, validators
from moto.awslambda.models import LambdaFunction, LayerVersion, lambda_backends
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import Stack as MotoStack
from moto.cloudformation.models import cloudformation_backends
from moto.core.common_models import CloudFormationModel
from moto.core.config import default_user_config
from moto.iam.models import Role, iam_backends

from tests.conftest import LambdaContext, load_handler
from tests.integration.conftest import function_zip
from tests.integration.own_policies import HARNESS_KEY, with_credentials
from tests.template_stack import ACCOUNT, PACKAGE, REGION, Stack, transformed

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployFailed(AssertionError):
    """The stack did not reach CREATE_COMPLETE (or DELETE_COMPLETE): the reason CloudFormation would give."""


def aws_client(moto_url: str, service: str, account: str | None = None) -> Any:
    """A client on the moto server, in ``account`` (an organization's admin role in it) or the harness's own."""
    keys = {"aws_access_key_id": HARNESS_KEY, "aws_secret_access_key": HARNESS_KEY}
    if account and account != ACCOUNT:
        found = boto3.client("sts", region_name=REGION, endpoint_url=moto_url, **keys).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="deploy")
        keys = {"aws_access_key_id": found["Credentials"]["AccessKeyId"],
                "aws_secret_access_key": found["Credentials"]["SecretAccessKey"],
                "aws_session_token": found["Credentials"]["SessionToken"]}
    return boto3.client(service, region_name=REGION, endpoint_url=moto_url, **keys)


@functools.cache
def _schema(resource_type: str) -> dict[str, Any]:
    return dict(PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """The schemas' patterns are ECMAScript's (``\\p{L}``...): matched by ``regex``, which reads them, as cfn-lint does."""
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft7Validator, {"pattern": _pattern})


def _as_schema_says(value: Any, schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    """A resolved value in the type its property has: CloudFormation converts scalars so ("14" for an integer
    property, a number or true for a string), as its handlers receive them."""
    if "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    kind = schema.get("type")
    if isinstance(value, dict) and (kind == "object" or "properties" in schema):
        fields = schema.get("properties", {})
        return {k: _as_schema_says(v, fields[k], definitions) if k in fields else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_as_schema_says(item, schema["items"], definitions) for item in value]
    with contextlib.suppress(ValueError, KeyError):
        if isinstance(value, str) and kind == "integer":
            return int(value)
        if isinstance(value, str) and kind == "number":
            return float(value) if "." in value else int(value)
        if isinstance(value, str) and kind == "boolean":
            return {"true": True, "false": False}[value.lower()]
        if isinstance(value, bool | int | float) and kind == "string":
            return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def check_properties(logical_id: str, resource_type: str, properties: dict[str, Any]) -> None:
    """The resolved properties, as CloudFormation's handler for the type validates them (its registry schema)."""
    errors = sorted(_Validator(_schema(resource_type)).iter_errors(properties), key=str)
    if errors:
        where = "/".join(map(str, errors[0].absolute_path))
        raise DeployFailed(f"{logical_id} ({resource_type}): Properties validation failed: /{where}: "
                           f"{errors[0].message}")


# ------------------------------------------------------------------ the types moto has no CloudFormation model for

def _api_parameters(service: str, operation: str, values: dict[str, Any]) -> dict[str, Any]:
    """Resolved properties as the API operation takes them: the members it has, in its own types."""
    def typed(value: Any, shape: Any) -> Any:
        if shape.type_name == "structure":
            return {k: typed(v, shape.members[k]) for k, v in value.items() if k in shape.members}
        if shape.type_name == "list":
            return [typed(item, shape.member) for item in value]
        if shape.type_name in ("integer", "long"):
            return int(value)
        if shape.type_name in ("double", "float"):
            return float(value)
        if shape.type_name == "boolean":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if shape.type_name == "string" and not isinstance(value, str):
            return json.dumps(value)  # a policy document given as an object
        return value

    shape = get_session().get_service_model(service).operation_model(operation).input_shape
    members = {name.lower(): name for name in shape.members}
    return typed({members[k.lower()]: v for k, v in values.items() if k.lower() in members}, shape)


class ApiResource(CloudFormationModel):
    """A resource of a type moto's CloudFormation lacks, made and removed through its service's API in moto."""

    moto_url = ""
    resource_type = ""

    def __init__(self, properties: dict[str, Any], account_id: str, region: str) -> None:
        self.properties = properties
        self.account_id, self.region = account_id, region
        self.attributes: dict[str, Any] = {}

    def api(self, service: str) -> Any:
        return aws_client(self.moto_url, service, self.account_id)

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return f"/properties/{attr}" in _schema(cls.resource_type).get("readOnlyProperties", [])

    @property
    def physical_resource_id(self) -> str:
        """``Ref``: the primary identifier, its parts joined by ``|`` (CloudFormation registry resources)."""
        values = self.properties | self.attributes
        return "|".join(str(values[p.rsplit("/", 1)[-1]]) for p in _schema(self.resource_type)["primaryIdentifier"])

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.attributes[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> ApiResource:
        resource = cls(cloudformation_json["Properties"], account_id, region_name)
        resource.create()
        return resource

    def create(self) -> None:
        raise NotImplementedError

    def delete(self, account_id: str, region: str) -> None:
        raise NotImplementedError

    def is_created(self) -> bool:
        return True


class Alarm(ApiResource):
    resource_type = "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    def create(self) -> None:
        self.api("cloudwatch").put_metric_alarm(**_api_parameters("cloudwatch", "PutMetricAlarm", self.properties))
        self.attributes["Arn"] = f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{self.properties['AlarmName']}"

    def delete(self, account_id: str, region: str) -> None:
        self.api("cloudwatch").delete_alarms(AlarmNames=[self.properties["AlarmName"]])


class Destination(ApiResource):
    resource_type = "AWS::Logs::Destination"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::Destination"

    def create(self) -> None:
        logs = self.api("logs")
        made = logs.put_destination(**_api_parameters("logs", "PutDestination", self.properties))["destination"]
        if "DestinationPolicy" in self.properties:
            logs.put_destination_policy(destinationName=self.properties["DestinationName"],
                                        accessPolicy=self.properties["DestinationPolicy"])
        self.attributes["Arn"] = made["arn"]

    def delete(self, account_id: str, region: str) -> None:
        self.api("logs").delete_destination(destinationName=self.properties["DestinationName"])


class AccountPolicy(ApiResource):
    resource_type = "AWS::Logs::AccountPolicy"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::AccountPolicy"

    def create(self) -> None:
        self.api("logs").put_account_policy(**_api_parameters("logs", "PutAccountPolicy", self.properties))
        self.attributes["AccountId"] = self.account_id

    def delete(self, account_id: str, region: str) -> None:
        self.api("logs").delete_account_policy(policyName=self.properties["PolicyName"],
                                               policyType=self.properties["PolicyType"])


class EventInvokeConfig(ApiResource):
    resource_type = "AWS::Lambda::EventInvokeConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    def create(self) -> None:
        self.api("lambda").put_function_event_invoke_config(
            **_api_parameters("lambda", "PutFunctionEventInvokeConfig", self.properties))

    def delete(self, account_id: str, region: str) -> None:
        with contextlib.suppress(self.api("lambda").exceptions.ResourceNotFoundException):  # gone with its function
            self.api("lambda").delete_function_event_invoke_config(FunctionName=self.properties["FunctionName"],
                                                                   Qualifier=self.properties["Qualifier"])


class BucketPolicy(ApiResource):
    resource_type = "AWS::S3::BucketPolicy"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    def create(self) -> None:
        self.api("s3").put_bucket_policy(Bucket=self.properties["Bucket"],
                                         Policy=json.dumps(self.properties["PolicyDocument"]))

    def delete(self, account_id: str, region: str) -> None:
        self.api("s3").delete_bucket_policy(Bucket=self.properties["Bucket"])


class Trail(ApiResource):
    resource_type = "AWS::CloudTrail::Trail"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudTrail::Trail"

    def create(self) -> None:
        cloudtrail = self.api("cloudtrail")
        name = self.properties["TrailName"]
        made = cloudtrail.create_trail(**_api_parameters("cloudtrail", "CreateTrail", self.properties | {"Name": name}))
        if self.properties.get("EventSelectors"):
            cloudtrail.put_event_selectors(TrailName=name, **_api_parameters(
                "cloudtrail", "PutEventSelectors", {"EventSelectors": self.properties["EventSelectors"]}))
        if str(self.properties["IsLogging"]).lower() == "true":
            cloudtrail.start_logging(Name=name)
        self.attributes["Arn"] = made["TrailARN"]

    def delete(self, account_id: str, region: str) -> None:
        self.api("cloudtrail").delete_trail(Name=self.properties["TrailName"])


API_RESOURCES: dict[str, type[ApiResource]] = {
    model.resource_type: model for model in (Alarm, Destination, AccountPolicy, EventInvokeConfig, BucketPolicy, Trail)}


# ----------------------------------------------------------------------------------------- custom resources

class Invocations:
    """What the stack's handlers printed while they ran (their log groups, on Lambda)."""

    logs: ClassVar[list[str]] = []


def _stack_of(function: Any) -> str | None:
    """The logship stack a moto function belongs to (the tag every logship function carries), if any."""
    return function.tags.get("logship:stack")


def run_function(function: Any, event: Any) -> Any:
    """A deployed function of a logship stack (moto's), run as Lambda runs it: the handler from this checkout for
    its name, with its environment as deployed and the credentials of its role as deployed."""
    directory = function.function_name.removeprefix(f"{_stack_of(function)}-").replace("-", "_")
    sts = boto3.client("sts", region_name=function.region, endpoint_url=ApiResource.moto_url,
                       aws_access_key_id=HARNESS_KEY, aws_secret_access_key=HARNESS_KEY)
    found = sts.assume_role(RoleArn=function.role, RoleSessionName=function.function_name)["Credentials"]
    credentials = {"AWS_ACCESS_KEY_ID": found["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
                   "AWS_SESSION_TOKEN": found["SessionToken"]}
    environment = {k: str(v) for k, v in function.environment_vars.items()} | {
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name, "AWS_REGION": function.region}
    printed = io.StringIO()
    # The environment and credentials are the process's: a function that calls another (a sweep's backfill invoking
    # ship-logs) waits for it, so runs nest and are restored in turn; none overlap.
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        for key, value in environment.items():
            patch.setenv(key, value)
        handler = load_handler(directory).handler.__wrapped__  # not the harness's role: the deployed one
        try:
            with with_credentials(credentials):
                return handler(event, LambdaContext(int(function.timeout) * 1000, function_name=function.function_name))
        finally:
            Invocations.logs += printed.getvalue().splitlines()


def _invoke(original: Any) -> Any:
    """moto's Invoke of a logship function (by CloudWatch Logs, EventBridge, Kinesis or a caller): the function runs;
    an unhandled error is answered as Lambda answers it (``X-Amz-Function-Error: Unhandled``)."""
    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        if not _stack_of(self):
            return original(self, body, request_headers, response_headers)
        try:
            answer = run_function(self, json.loads(body) if body else {})
        except Exception as exc:  # what Lambda reports for any error the handler lets out
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = {"errorMessage": str(exc), "errorType": type(exc).__name__}
        return json.dumps(answer).encode()

    return invoke


class StackCustomResource(CustomModel):
    """A custom resource whose function answers before dependants are made (see the module's docstring)."""

    answered_id = ""
    failure = ""
    awaiting: ClassVar[dict[str, StackCustomResource]] = {}  # request id -> the resource whose answer it is

    @property
    def physical_resource_id(self) -> str:
        return self.answered_id or self.resource_name

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> StackCustomResource:
        resource = cls(region_name, "", kwargs["LogicalId"], resource_name)
        resource.stack_id, resource.resource_type = kwargs["StackId"], kwargs["ResourceType"]
        resource.properties = cloudformation_json["Properties"]
        resource.account_id = account_id
        resource.send("Create")
        if resource.failure:
            raise DeployFailed(f"{resource.logical_id} ({resource.resource_type}): CREATE_FAILED: {resource.failure}")
        return resource

    def send(self, request_type: str) -> None:
        self.request_id = str(uuid.uuid4())
        self.awaiting[self.request_id] = self
        event = {"RequestType": request_type, "ServiceToken": self.properties["ServiceToken"],
                 "ResponseURL": f"{ApiResource.moto_url}/cloudformation_{self.region_name}/cfnresponse"
                                f"?stack={self.stack_id}",
                 "StackId": self.stack_id, "RequestId": self.request_id, "LogicalResourceId": self.logical_id,
                 "ResourceType": self.resource_type, "ResourceProperties": self.properties}
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_resource_id
        self._finished = False
        run_function(lambda_backends[self.account_id][self.region_name].get_function(self.properties["ServiceToken"]),
                     event)
        if not self._finished and not self.failure:
            self.failure = ("the function sent no answer (CloudFormation waits for its timeout, an hour by default); "
                            "it printed:\n" + "\n".join(Invocations.logs[-10:]))

    def delete(self, account_id: str, region: str) -> None:
        self.send("Delete")
        if self.failure:
            raise DeployFailed(f"{self.logical_id} ({self.resource_type}): DELETE_FAILED: {self.failure}")


def _process_cfn_response(self: Any) -> tuple[int, dict[str, int], str]:
    """An answer at the response URL: SUCCESS sets the attributes and the physical id, FAILED the reason."""
    answer = json.loads(self.body)
    resource = StackCustomResource.awaiting.pop(answer["RequestId"], None)
    if resource is None:
        return 400, {"status": 400}, "no request awaits this answer"
    if answer["Status"] == "SUCCESS":
        resource.answered_id = answer["PhysicalResourceId"]
        resource.set_data(answer.get("Data") or {})
    else:
        resource.failure = answer.get("Reason") or "(no reason given)"
    return 200, {"status": 200}, ""


# ------------------------------------------------------------------------------------------ references, deletion

def _references(node: Any) -> set[str]:
    """Every name a template node refers to (``Ref``, ``Fn::GetAtt``, ``${...}`` in ``Fn::Sub``)."""
    if isinstance(node, list):
        return set().union(*map(_references, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value.split(".")[0] if isinstance(value, str) else value[0])
        elif key == "Fn::Sub":
            text = value if isinstance(value, str) else value[0]
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)}
            found |= _references(value[1] if isinstance(value, list) else {})
        else:
            found |= _references(value)
    return found


def _dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    depends = {}
    for logical, resource in resources.items():
        named = resource.get("DependsOn", [])
        named = {named} if isinstance(named, str) else set(named)
        depends[logical] = (named | _references({k: v for k, v in resource.items() if k != "DependsOn"})) & set(
            resources)
    return depends


def _delete_in_order(self: Any) -> None:
    """CloudFormation's order: a resource goes only once nothing left depends on it; the first failure stops it."""
    depends = _dependencies(self._resource_json_map)
    remaining = {name for name, resource in self._resource_json_map.items()
                 if resource.get("DeletionPolicy") != "Retain"}
    while remaining:
        ready = sorted(name for name in remaining if not any(name in depends[other] for other in remaining))
        assert ready, f"a dependency cycle among {sorted(remaining)}"
        for name in ready:
            parsed = self._parsed_resources.get(name)
            if parsed is not None and not isinstance(parsed, str):
                self._delete_resource(parsed, self._resource_json_map[name])
                self._parsed_resources.pop(name)
            remaining.discard(name)


def teach_cloudformation(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> None:
    """moto's CloudFormation, doing what the module's docstring lists as CloudFormation does."""
    monkeypatch.setattr(ApiResource, "moto_url", moto_url)
    monkeypatch.setattr(Invocations, "logs", [])
    _teach_values(monkeypatch)
    _teach_resource_types(monkeypatch)
    _teach_stacks(monkeypatch)
    _teach_roles(monkeypatch)
    _teach_functions(monkeypatch)


def _teach_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values as CloudFormation resolves them: no ``null`` in lists, Number parameters as text, compared as text."""
    clean_json, parse_condition = parsing.clean_json, parsing.parse_condition
    load_parameters = parsing.ResourceMap.load_parameters

    def clean(node: Any, resources_map: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (clean(item, resources_map) for item in node) if v is not None]
        return clean_json(node, resources_map)

    def parameters_as_text(self: Any) -> None:
        load_parameters(self)
        for name, spec in self._template.get("Parameters", {}).items():
            value = self.resolved_parameters.get(name)
            if spec.get("Type") in ("Number", "List<Number>") and value is not None:
                self.resolved_parameters[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
                self._parsed_resources[name] = self.resolved_parameters[name]

    def condition(node: Any, resources_map: Any, condition_map: dict[str, Any]) -> bool:
        if isinstance(node, dict) and list(node) == ["Fn::Equals"]:
            left, right = (clean(value, resources_map) for value in node["Fn::Equals"])
            return str(left).lower() == str(right).lower() if right in (True, False) else str(left) == str(right)
        return bool(parse_condition(node, resources_map, condition_map))

    monkeypatch.setattr(parsing, "clean_json", clean)
    monkeypatch.setattr(parsing.ResourceMap, "load_parameters", parameters_as_text)
    monkeypatch.setattr(parsing, "parse_condition", condition)


def _teach_resource_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Properties in their schema's types and checked against it; the types moto lacks and the custom resources
    made as here."""
    parse_resource, resource_class = parsing.parse_resource, parsing.resource_class_from_type

    def checked(resource_json: dict[str, Any], resources_map: Any) -> Any:
        found = parse_resource(resource_json, resources_map)
        if found and not resource_json["Type"].startswith("Custom::"):
            logical = next((k for k, v in resources_map._resource_json_map.items() if v is resource_json), "?")
            schema = _schema(resource_json["Type"])
            found[1]["Properties"] = _as_schema_says(found[1]["Properties"], schema, schema.get("definitions", {}))
            check_properties(logical, resource_json["Type"], found[1]["Properties"])
        return found

    def model(resource_type: str) -> Any:
        if resource_type.startswith("Custom::"):
            return StackCustomResource
        return API_RESOURCES.get(resource_type) or resource_class(resource_type)

    monkeypatch.setattr(parsing, "parse_resource", checked)
    monkeypatch.setattr(parsing, "resource_class_from_type", model)


def _teach_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed resource fails the stack with its reason (and rolls a creation back); deletion in dependency order;
    custom resources' answers at their URL."""
    create_resources = MotoStack.create_resources

    def create_or_roll_back(self: Any) -> None:
        try:
            create_resources(self)
        except Exception as exc:  # any failure of any resource, as CloudFormation reports it
            self._add_stack_event("CREATE_FAILED", resource_status_reason=str(exc))
            try:
                self.resource_map.delete()
            except Exception as failed:
                self._add_stack_event("ROLLBACK_FAILED", resource_status_reason=str(failed))
                self.status = "ROLLBACK_FAILED"
                return
            self.status = "ROLLBACK_COMPLETE"
            self._add_stack_event("ROLLBACK_COMPLETE")

    def delete_or_fail(self: Any) -> None:
        self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
        try:
            self.resource_map.delete()
        except Exception as exc:  # any failure of any resource, as CloudFormation reports it
            self._add_stack_event("DELETE_FAILED", resource_status_reason=str(exc))
            self.status = "DELETE_FAILED"
            return
        self._add_stack_event("DELETE_COMPLETE")
        self.status = "DELETE_COMPLETE"

    monkeypatch.setattr(MotoStack, "create_resources", create_or_roll_back)
    monkeypatch.setattr(MotoStack, "delete", delete_or_fail)
    monkeypatch.setattr(parsing.ResourceMap, "delete", _delete_in_order)
    monkeypatch.setattr(cfn_responses.CloudFormationResponse, "process_cfn_response", _process_cfn_response)


def _teach_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inline policies as JSON text, AWS's managed policies attached (and detached before the role goes)."""
    create_role = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    delete_role = Role.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def role(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
             **kwargs: Any) -> Any:
        properties = cloudformation_json["Properties"]
        for policy in properties.get("Policies", []):
            policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])
        made = create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        for arn in properties.get("ManagedPolicyArns", []):
            iam_backends[account_id]["aws"].attach_role_policy(arn, made.name)
        return made

    def detach_then_delete(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                           region_name: str) -> None:
        backend = iam_backends[account_id]["aws"]
        for arn in list(backend.get_role(resource_name).managed_policies):
            backend.detach_role_policy(arn, resource_name)
        delete_role(cls, resource_name, cloudformation_json, account_id, region_name)

    monkeypatch.setitem(default_user_config["iam"], "load_aws_managed_policies", True)
    monkeypatch.setattr(Role, "create_from_cloudformation_json", classmethod(role))
    monkeypatch.setattr(Role, "delete_from_cloudformation_json", classmethod(detach_then_delete))


def _teach_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Functions with their tags, layers, architecture and logging; logship's run when invoked; layer versions
    named, referred to and deleted as CloudFormation does."""
    create_function = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def function(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                 region_name: str, **kwargs: Any) -> Any:
        properties = cloudformation_json["Properties"]
        made = create_function(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        made.update_configuration({k: properties[k] for k in ("Layers", "LoggingConfig") if k in properties})
        made.architectures = properties.get("Architectures", made.architectures)
        if properties.get("Tags"):
            lambda_backends[account_id][region_name].tag_resource(
                made.function_arn, {tag["Key"]: tag["Value"] for tag in properties["Tags"]})
        return made

    monkeypatch.setattr(LambdaFunction, "create_from_cloudformation_json", classmethod(function))
    monkeypatch.setattr(LambdaFunction, "invoke", _invoke(LambdaFunction.invoke))
    monkeypatch.setattr(LayerVersion, "physical_resource_id", property(lambda self: self.arn), raising=False)
    monkeypatch.setattr(LayerVersion, "cloudformation_name_type", staticmethod(lambda: "LayerName"))
    monkeypatch.setattr(LayerVersion, "delete", lambda self, account_id, region: lambda_backends[account_id][
        region].delete_layer_version(self.name, str(self.version)), raising=False)


# ----------------------------------------------------------------------------------------------------- the stack

class TemplateStack:
    """``TemplateStack(moto_url, "logship", OpenSearchEndpoint=...)``: deployed from template.yaml on creation;
    ``outputs``, ``delete()``."""

    def __init__(self, moto_url: str, name: str = "logship", account: str | None = None, **parameters: str) -> None:
        self.moto_url, self.name, self.account, self.parameters = moto_url, name, account, parameters
        bucket, key = PACKAGE[0] + (f"-{account}" if account else ""), PACKAGE[1]  # each account's own, as sam's
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_DEFAULT_REGION", REGION)
            self.template = transformed(parameters, (bucket, key))
        refused = Stack(name, template=self.template, **parameters).refused()
        if refused:
            raise DeployFailed(f"CreateStack {name}: {'; '.join(refused)}")
        s3 = aws_client(moto_url, "s3", account)
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=bucket, Key=key, Body=function_zip())
        s3.put_object(Bucket=bucket, Key=f"{name}.template", Body=json.dumps(self.template).encode())
        cloudformation = aws_client(moto_url, "cloudformation", account)
        try:
            cloudformation.create_stack(
                StackName=name, TemplateURL=f"https://{bucket}.s3.amazonaws.com/{name}.template",
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                Capabilities=CAPABILITIES)
        except cloudformation.exceptions.ClientError as exc:
            raise DeployFailed(f"CreateStack {name}: {exc}") from exc
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        if events[0]["ResourceStatus"] != "CREATE_COMPLETE":  # the latest first
            raise DeployFailed(f"{name}: " + "; ".join(f"{e['ResourceStatus']}: {e['ResourceStatusReason']}" for e in
                                                       reversed(events) if e.get("ResourceStatusReason")))
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        self.stack_id = stack["StackId"]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}

    def retained(self) -> set[str]:
        """What deleting the stack leaves on purpose (``DeletionPolicy: Retain``), as :func:`holdings` names it."""
        made = cloudformation_backends[self.account or ACCOUNT][REGION].get_stack(self.stack_id).resource_map
        kinds = {"AWS::S3::Bucket": "bucket"}
        return {f"{kinds[resource['Type']]} {made[logical].physical_resource_id}"
                for logical, resource in self.template["Resources"].items()
                if resource.get("DeletionPolicy") == "Retain" and made[logical] is not None}

    def delete(self) -> None:
        cloudformation = aws_client(self.moto_url, "cloudformation", self.account)
        cloudformation.delete_stack(StackName=self.name)
        events = cloudformation.describe_stack_events(StackName=self.stack_id)["StackEvents"]
        if events[0]["ResourceStatus"] != "DELETE_COMPLETE":
            raise DeployFailed(f"{self.name}: {events[0]['ResourceStatus']}: {events[0].get('ResourceStatusReason')}")


def holdings(moto_url: str, account: str | None = None) -> set[str]:
    """Everything of the kinds a stack makes that the account and region hold, as the APIs list it."""
    def api(service: str) -> Any:
        return aws_client(moto_url, service, account)

    logs, lambda_ = api("logs"), api("lambda")
    groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    found = {f"log group {g}" for g in groups} | {
        f"filter {f['filterName']} on {g} to {f['destinationArn']}" for g in groups
        for f in logs.describe_subscription_filters(logGroupName=g)["subscriptionFilters"]}
    found |= {f"destination {d['destinationName']}" for d in logs.describe_destinations()["destinations"]}
    found |= {f"account policy {p['policyName']}" for p in
              logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]}
    found |= {f"function {f['FunctionName']}" for f in lambda_.list_functions()["Functions"]}
    found |= {f"layer {layer['LayerName']}" for layer in lambda_.list_layers()["Layers"]}
    found |= {f"event source mapping {m['UUID']}" for m in lambda_.list_event_source_mappings()["EventSourceMappings"]}
    found |= {f"role {r['RoleName']}" for r in api("iam").list_roles()["Roles"]}
    found |= {f"queue {url}" for url in api("sqs").list_queues().get("QueueUrls", [])}
    found |= {f"alarm {a['AlarmName']}" for a in api("cloudwatch").describe_alarms()["MetricAlarms"]}
    found |= {f"rule {r['Name']}" for r in api("events").list_rules()["Rules"]}
    found |= {f"stream {name}" for name in api("kinesis").list_streams()["StreamNames"]}
    found |= {f"trail {t['Name']}" for t in api("cloudtrail").describe_trails()["trailList"]}
    s3 = api("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        if bucket["Name"].startswith(PACKAGE[0]):  # sam deploy's, for the code and the template; no stack's
            continue
        found.add(f"bucket {bucket['Name']}")
        with contextlib.suppress(s3.exceptions.ClientError):
            found.add(f"bucket policy {bucket['Name']} {s3.get_bucket_policy(Bucket=bucket['Name'])['Policy']}")
    return found

