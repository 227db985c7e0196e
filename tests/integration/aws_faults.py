"""Faults on the wire in front of moto: AWS refusing a call, or doing it and losing its answer.

A botocore ``before-send`` hook, registered on the session the functions' clients come from, answers as AWS
would. A refused request never reaches moto (its stubber skips requests the hook answered: botocore calls
every ``before-send`` handler, so without this moto would carry out a call AWS refused); a request whose
answer is lost is carried out by moto first, then answered with a 5xx or a read timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto.core.models import botocore_stubber

ANSWERED = "x-test-fault"  # marks a request the hook answered, so moto leaves it alone


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self._body


def error_response(url: str, code: str, message: str, status: int = 400) -> AWSResponse:
    """An AWS JSON error as CloudWatch Logs, SQS (JSON) and Lambda send it."""
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"x-amzn-RequestId": "fault", "x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
    return AWSResponse(url, status, headers, _Body(body))


@dataclass(frozen=True, slots=True)
class Refuse:
    """AWS answers ``code`` without doing anything."""

    code: str
    message: str
    status: int = 400


@dataclass(frozen=True, slots=True)
class LoseAnswer:
    """AWS does the work, then the answer is lost: a ``status`` (5xx) or, with status 0, a read timeout."""

    status: int = 500


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The connection fails before the request is sent: AWS never sees it."""


Fault = Refuse | LoseAnswer | Unreachable
Rule = Callable[[str, str], Fault | None]  # (service, operation) -> the fault for this attempt, or None


class Faults:
    """``faults.refuse("PutSubscriptionFilter", "LimitExceededException", "...", times=1)``; rules apply in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._process = botocore_stubber.process_request
        self._rules: list[Rule] = []
        self.attempts: dict[str, int] = {}
        self.faults: dict[str, int] = {}

        def moto_unless_answered(request: Any) -> Any:
            return None if request.headers.get(ANSWERED) else self._process(request)

        monkeypatch.setattr(botocore_stubber, "process_request", moto_unless_answered)
        boto3.DEFAULT_SESSION.events.register_first("before-send", self._hook)

    def add(self, rule: Rule) -> None:
        self._rules.append(rule)

    def on(self, operation: str, fault: Fault, times: int | None = None, service: str | None = None) -> list[str]:
        """``fault`` for the first ``times`` attempts of ``operation`` (all if None); returns every attempt's URL."""
        seen: list[str] = []

        def rule(svc: str, op: str) -> Fault | None:
            if op != operation or (service and svc != service):
                return None
            seen.append(op)
            return fault if times is None or len(seen) <= times else None

        self.add(rule)
        return seen

    def refuse(self, operation: str, code: str, message: str, times: int | None = None,
               service: str | None = None, status: int = 400) -> list[str]:
        return self.on(operation, Refuse(code, message, status), times, service)

    def lose_answer(self, operation: str, times: int = 1, status: int = 500) -> list[str]:
        return self.on(operation, LoseAnswer(status), times)

    def _hook(self, request: Any, event_name: str, **_kwargs: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".")
        self.attempts[operation] = self.attempts.get(operation, 0) + 1
        fault = next((f for f in (rule(service, operation) for rule in self._rules) if f is not None), None)
        if fault is None:
            return None  # on to moto
        self.faults[operation] = self.faults.get(operation, 0) + 1
        request.headers[ANSWERED] = "1"
        if isinstance(fault, Refuse):
            return error_response(request.url, fault.code, fault.message, fault.status)
        if isinstance(fault, Unreachable):
            raise EndpointConnectionError(endpoint_url=request.url)
        self._process(request)  # AWS did it ...
        if not fault.status:  # ... and the answer never came
            raise ReadTimeoutError(endpoint_url=request.url)
        return error_response(request.url, "InternalFailure" if fault.status == 500 else "ServiceUnavailableException",
                              "The server encountered an internal error", fault.status)
