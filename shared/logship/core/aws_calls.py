"""Paced AWS calls with our own bounded retries, for the subscription functions.

botocore's standard retry mode shares one retry quota per client: under a sustained throttling storm it is
spent, and from then on every throttled call fails after its first attempt. So botocore does not retry here
at all; each call waits for its API's pacer, then throttling, 5xx and transport errors are retried with
exponential backoff and full jitter, a bounded number of times and never past the invocation's time.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as TransportConnectionError

# Codes AWS answers when a call may succeed if made again later. LimitExceededException is not one of them:
# botocore counts it as throttling, but from PutSubscriptionFilter it means "no room on this group".
RETRYABLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
    "RequestThrottled", "RequestThrottledException", "ServiceUnavailableException", "ServiceUnavailable",
    "InternalFailure", "InternalServerError", "InternalServiceError", "SlowDown",
})
ATTEMPTS = 12  # per call; at 35 % throttled calls, 12 in a row happen about 3 times in a million


def error_code(exc: BaseException) -> tuple[str, str]:
    """``(code, message)`` of an AWS error, or the exception's class name and text for anything else."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "Unknown")), str(error.get("Message", exc))
    return type(exc).__name__, str(exc)


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def retryable(exc: BaseException) -> bool:
    """Throttling, a 5xx, or the connection failing: the same call may succeed a moment later."""
    if isinstance(exc, ClientError):
        return error_code(exc)[0] in RETRYABLE_CODES or _status(exc) >= 500
    return isinstance(exc, TransportConnectionError | HTTPClientError)


def maybe_done(exc: BaseException) -> bool:
    """AWS may have carried the request out although its answer never came (a 5xx, a read timeout, a dropped
    connection): a retry that then finds nothing to do means this attempt did it."""
    if isinstance(exc, ClientError):
        return _status(exc) >= 500
    return isinstance(exc, HTTPClientError)


class OutOfTimeError(Exception):
    """A call still failed with a retryable error when the invocation's time ran short: do it in a later one."""

    def __init__(self, operation: str, last: BaseException) -> None:
        code, message = error_code(last)
        super().__init__(f"{operation} still answered {code} ({message}) when the invocation ran short of time")
        self.operation = operation
        self.last = last


class Pacer:
    """At most ``rate`` calls per second: waits just long enough before each. Clock and sleep are injectable."""

    def __init__(self, rate: float, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    def wait(self) -> None:
        now = (self._clock or time.monotonic)()  # looked up when used, like sleep: tests run both virtually
        if now < self._next:
            (self._sleep or time.sleep)(self._next - now)
            now = self._next
        self._next = now + self._interval


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits a random time in [0, min(cap, base * 2**n))."""

    base_s: float = 0.25
    cap_s: float = 10.0

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        return rand() * min(self.cap_s, self.base_s * 2 ** min(attempt, 30))


def aws_client(service: str, region: str) -> Any:
    """A boto3 client that never retries by itself (:class:`Calls` does), with short timeouts.

    One attempt only: botocore would otherwise retry LimitExceededException as throttling, and spend its
    shared retry quota. Control-plane calls answer in well under a second.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=region, config=Config(
        retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=5))


def assumed_role_client(service: str, region: str, role_arn: str, session_name: str) -> Any:
    """A client like :func:`aws_client` acting as ``role_arn`` (another account's), its credentials renewed by
    botocore before they expire: assumed on first use, never kept in the environment."""
    import boto3
    from botocore.config import Config
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    sts = aws_client("sts", region)

    def fetch() -> dict[str, str]:
        found = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
        return {"access_key": found["AccessKeyId"], "secret_key": found["SecretAccessKey"],
                "token": found["SessionToken"], "expiry_time": found["Expiration"].isoformat()}

    botocore_session = get_session()
    botocore_session._credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
    return boto3.Session(botocore_session=botocore_session).client(service, region_name=region, config=Config(
        retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=5))


class Calls:
    """One AWS client's calls, paced per API and retried: ``Calls(factory, ["DescribeLogGroups"], 5.0)``.

    Only the APIs named are called (the template grants exactly those). The client is built on first use
    (most runs never need Lambda or SQS). :meth:`until` bounds retries by the invocation's time; the first
    attempt of a call is always made, so every part of a sweep progresses.
    """

    def __init__(self, client: Callable[[], Any], apis: Collection[str], rate: float, *, attempts: int = ATTEMPTS,
                 backoff: Backoff = Backoff(), clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, rand: Callable[[], float] = random.random) -> None:
        self._make_client = client
        self._client: Any = None
        self._attempts = attempts
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._pacers = {api: Pacer(rate, clock, sleep) for api in apis}
        self._time_left: Callable[[], float] = lambda: math.inf

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def until(self, time_left_s: Callable[[], float]) -> None:
        """Retry only while ``time_left_s()`` (seconds, the invocation's time minus what it keeps back) lasts."""
        self._time_left = time_left_s

    def time_left(self) -> float:
        return self._time_left()

    def call(self, operation: str, params: Mapping[str, Any], *, attempts: int | None = None,
             failed: list[BaseException] | None = None) -> dict[str, Any]:
        """``operation`` (the API name) with ``params``; the final error is raised as botocore raised it.

        ``attempts`` overrides the bound (``0``: until time runs short, or the usual bound if :meth:`until` set
        no deadline); earlier failed attempts are appended
        to ``failed``, so a caller can tell "not found" from "done by an attempt whose answer was lost".
        Raises :class:`OutOfTimeError` when a retryable error outlasts the time.
        """
        bound = self._attempts if attempts is None else attempts
        if not bound and math.isinf(self._time_left()):  # "until time runs short" needs a deadline to end
            bound = self._attempts
        pacer = self._pacers.get(operation)
        if pacer is None:
            raise ValueError(f"{operation} is not one of the APIs these calls may make ({', '.join(self._pacers)}); "
                             "add it to PACED_APIS and grant it in template.yaml")
        method = getattr(self.client, xform_name(operation))
        attempt = 0
        while True:
            pacer.wait()
            try:
                return method(**params)
            except (ClientError, BotoCoreError) as exc:
                attempt += 1
                if not retryable(exc) or (bound and attempt >= bound):
                    raise
                if failed is not None:
                    failed.append(exc)
                self.pause(attempt, operation, exc)

    def pause(self, attempt: int, operation: str, last: BaseException) -> None:
        """Wait before retry number ``attempt``; raise :class:`OutOfTimeError` if the wait would outlast the time."""
        delay = self._backoff.delay(attempt, self._rand)
        if self._time_left() <= delay:
            raise OutOfTimeError(operation, last) from last
        (self._sleep or time.sleep)(delay)
