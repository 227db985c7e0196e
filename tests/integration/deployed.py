"""A deployed logship stack as the logship command finds it on AWS, served over HTTP by a moto server.

The command runs exactly as on a laptop: its own boto3 clients, pointed at the server by AWS_ENDPOINT_URL.
The stack is template.yaml evaluated for a stack name (tests/template_stack.py): its functions with their
environment and tags, log groups, queues, alarms, and a CloudFormation stack holding its outputs. Lambda calls
go through a small stand-in (AWS_ENDPOINT_URL_LAMBDA) that runs the real ship-logs handler for Invoke, as
Lambda would, and hands every other Lambda call on to moto.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.session import get_session

from tests.conftest import LambdaContext, load_handler
from tests.integration.conftest import function_zip
from tests.template_stack import ACCOUNT, REGION, RESOURCES, TEMPLATE, Stack

FUNCTIONS = ("ShipLogsFunction", "SubscribeLogGroupFunction", "ReconcileSubscriptionsFunction",
             "InstallIndexTemplateFunction")
_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class LambdaService:
    """Lambda's Invoke, running the real ship-logs handler; every other call is moto's.

    ``RequestResponse`` answers the handler's return value (or Lambda's error shape, with
    ``X-Amz-Function-Error``); ``Event`` runs it before answering 202, so a test sees what it did.
    """

    def __init__(self, moto_url: str) -> None:
        self.invocations: list[dict[str, Any]] = []
        self.logs: list[str] = []
        self._handler: Any = None
        self._moto_url = moto_url
        self._set: list[str] = []
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                match = _INVOKE.match(self.path.split("?")[0])
                if match and match[1].rsplit(":", 1)[-1].endswith("ship-logs"):
                    service._invoke(self, urllib.request.unquote(match[1]), body)
                else:
                    service._forward(self, moto_url, body)

            def do_GET(self) -> None:
                service._forward(self, moto_url, b"")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _invoke(self, request: BaseHTTPRequestHandler, function: str, body: bytes) -> None:
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        headers = {"Content-Type": "application/json"}
        try:
            # One execution environment: invocations run one at a time. What the handler prints goes to its log
            # group on Lambda; here to ``logs``, not into the output of the command under test.
            with self._lock, contextlib.redirect_stdout(io.StringIO()) as printed:
                try:
                    result = self._cold_start(function)(json.loads(body), LambdaContext(120_000))
                finally:
                    self.logs += printed.getvalue().splitlines()
            answer = json.dumps(result).encode()
            self.invocations.append({"function": function, "type": kind, "error": None})
        except Exception as exc:  # what Lambda answers for an unhandled error
            answer = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
            headers["X-Amz-Function-Error"] = "Unhandled"
            self.invocations.append({"function": function, "type": kind, "error": str(exc)})
        status = 202 if kind == "Event" else 200
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        payload = b"" if kind == "Event" else answer
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _cold_start(self, function: str) -> Any:
        """The handler, loaded once with the function's own environment, as Lambda starts it."""
        if self._handler is None:
            client = boto3.client("lambda", region_name=REGION, endpoint_url=self._moto_url)
            found = client.get_function_configuration(FunctionName=function)
            env = found.get("Environment", {}).get("Variables", {}) | {
                "AWS_LAMBDA_FUNCTION_NAME": found["FunctionName"]}
            self._set = [key for key in env if key not in os.environ]
            os.environ.update(env)
            self._handler = load_handler("ship_logs").handler
        return self._handler

    @staticmethod
    def _forward(request: BaseHTTPRequestHandler, moto_url: str, body: bytes) -> None:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        forwarded = urllib.request.Request(moto_url + request.path, data=body or None, headers=headers,
                                           method=request.command)
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as answer:
                status, answer_headers, payload = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:
            status, answer_headers, payload = exc.code, exc.headers, exc.read()
        request.send_response(status)
        for key, value in answer_headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def close(self) -> None:
        for key in self._set:
            os.environ.pop(key, None)
        self._server.shutdown()
        self._server.server_close()


def _typed(value: Any, shape: Any) -> Any:
    """A template value (numbers come as text from parameters) in the type the API's shape wants."""
    if shape.type_name == "structure":
        return {k: _typed(v, shape.members[k]) for k, v in value.items() if k in shape.members and v not in ([], None)}
    if shape.type_name == "list":
        return [_typed(item, shape.member) for item in value]
    if shape.type_name in ("integer", "long"):
        return int(value)
    if shape.type_name in ("double", "float"):
        return float(value)
    if shape.type_name == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value


def _alarm_parameters(properties: dict[str, Any]) -> dict[str, Any]:
    """template.yaml's alarm properties as PutMetricAlarm takes them (same names, the API's own types)."""
    return _typed(properties, get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm")
                  .input_shape)


class DeployedStack:
    """``DeployedStack(moto_url, "logship", endpoint)``: the stack's resources, parameters and outputs, as
    CloudFormation would leave them; ``aws(service)`` is a client on the same server, for setting up and checking."""

    def __init__(self, moto_url: str, name: str = "logship", endpoint: str = "http://127.0.0.1:9",
                 **parameters: str) -> None:
        self.moto_url = moto_url
        self.stack = Stack(name, **parameters)
        self.name = name
        role = self.aws("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for group, tags in self.stack.log_groups().items():
            self.aws("logs").create_log_group(logGroupName=group, tags=tags)
        for queue in ("DeadLetterQueue", "SubscriptionDeadLetterQueue"):
            if self.stack.exists(queue):
                self.aws("sqs").create_queue(QueueName=f"{name}-{queue}")
        tags = self.stack.functions()
        given = dict(self.stack.parameters)  # what DescribeStacks answers: every parameter, defaults included
        for logical in filter(self.stack.exists, FUNCTIONS):
            function = self.stack.ref(logical)
            env = self.stack.environment(logical)
            if "OPENSEARCH_ENDPOINT" in env:  # the stand-in's; without credentials unless the test names them
                auth = parameters.get("OpenSearchAuth", "none")
                env |= {"OPENSEARCH_ENDPOINT": endpoint, "OPENSEARCH_AUTH": auth}
                given |= {"OpenSearchEndpoint": endpoint, "OpenSearchAuth": auth}
            self.aws("lambda").create_function(FunctionName=function, Runtime="python3.13", Role=role,
                                               Handler="app.handler", Code={"ZipFile": function_zip()},
                                               Environment={"Variables": env}, Tags=tags[function])
        for logical, resource in RESOURCES.items():
            if resource["Type"] == "AWS::CloudWatch::Alarm" and self.stack.exists(logical):
                self.aws("cloudwatch").put_metric_alarm(**_alarm_parameters(self.stack.value(resource["Properties"])))
        self.aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps({
            "Parameters": {key: {"Type": "String"} for key in given},
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},  # a stack needs one resource
            "Outputs": {key: {"Value": value} for key, value in self.outputs().items()}}),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()])

    def outputs(self) -> dict[str, str]:
        """template.yaml's outputs for this stack (those a test stack can evaluate: no SAM-made role)."""
        found = {}
        for key, output in TEMPLATE["Outputs"].items():
            if "Condition" in output and not self.stack.condition(output["Condition"]):
                continue
            try:
                found[key] = str(self.stack.value(output["Value"]))
            except KeyError:  # e.g. ShipLogsFunctionRole, made by SAM from the function
                role = (output["Value"].get("Fn::GetAtt") or [""])[0] if isinstance(output["Value"], dict) else ""
                if role.endswith("FunctionRole") and role.removesuffix("Role") in self.stack.resources:
                    # the role SAM makes for a function: CloudFormation names it <stack>-<logical id>-<suffix>
                    found[key] = f"arn:aws:iam::{ACCOUNT}:role/{self.name}-{role}-1A2B3C4D5E6F"
        return found

    def aws(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.moto_url)

    @property
    def shipper_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}-ship-logs"

    def queue_url(self, output: str = "DeadLetterQueueUrl") -> str:
        return self.outputs()[output]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def cloud(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh moto account served over HTTP, and the environment a laptop pointed at it has."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=30)
    lambda_service = LambdaService(moto_server)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                       "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": moto_server,
                       "AWS_ENDPOINT_URL_LAMBDA": lambda_service.url}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "LOGSHIP_STACK", "LOGSHIP_ENDPOINT", "LOGSHIP_AUTH",
                "LOGSHIP_PREFIX", "LOGSHIP_SECRET_ARN"):
        monkeypatch.delenv(key, raising=False)
    yield {"moto": moto_server, "lambda": lambda_service}
    lambda_service.close()
