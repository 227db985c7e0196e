"""Which AWS answers are worth another attempt, how long to wait before it, and the pace between calls."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from logship.core.aws_calls import Backoff, OutOfTimeError, Pacer, error_code, maybe_done, retryable


def answered(code: str, status: int = 400) -> ClientError:
    """An error as botocore raises it from AWS's answer."""
    return ClientError({"Error": {"Code": code, "Message": f"{code} message"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PutSubscriptionFilter")


URL = "https://logs.eu-west-1.amazonaws.com/"


@pytest.mark.parametrize(("error", "again", "perhaps_done"), [
    (answered("ThrottlingException"), True, False),
    (answered("TooManyRequestsException", 429), True, False),  # Lambda's throttling
    (answered("ServiceUnavailableException", 503), True, True),
    (answered("InternalFailure", 500), True, True),
    (answered("SomethingNew", 502), True, True),  # any 5xx
    (ReadTimeoutError(endpoint_url=URL), True, True),  # sent; the answer never came
    (ConnectionClosedError(endpoint_url=URL), True, True),
    (EndpointConnectionError(endpoint_url=URL), True, False),  # never sent
    (ConnectTimeoutError(endpoint_url=URL), True, False),
    (answered("LimitExceededException"), False, False),  # "no room on this group": classified, not retried
    (answered("ResourceNotFoundException"), False, False),
    (answered("AccessDeniedException"), False, False),
    (answered("InvalidParameterException"), False, False),
    (ParamValidationError(report="bad"), False, False),
])
def test_what_is_retried_and_what_may_have_been_done(error, again, perhaps_done):
    assert retryable(error) is again
    assert maybe_done(error) is perhaps_done


def test_errors_are_named_by_their_aws_code_or_their_class():
    assert error_code(answered("ThrottlingException")) == ("ThrottlingException", "ThrottlingException message")
    assert error_code(EndpointConnectionError(endpoint_url=URL))[0] == "EndpointConnectionError"


@pytest.mark.parametrize("attempt", [1, 2, 5, 10, 40])
def test_backoff_is_full_jitter_under_an_exponential_ceiling(attempt):
    backoff = Backoff(base_s=0.25, cap_s=10.0)
    ceiling = min(10.0, 0.25 * 2 ** attempt)

    assert backoff.delay(attempt, lambda: 0.0) == 0.0
    assert backoff.delay(attempt, lambda: 0.5) == pytest.approx(ceiling / 2)
    assert backoff.delay(attempt, lambda: 0.999999) < ceiling


def test_out_of_time_says_what_aws_last_answered():
    error = OutOfTimeError("DescribeLogGroups", answered("ThrottlingException"))

    assert str(error) == ("DescribeLogGroups still answered ThrottlingException (ThrottlingException message) when "
                          "the invocation ran short of time")
    assert error_code(error.last)[0] == "ThrottlingException"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_waits_only_as_long_as_the_rate_needs():
    clock = Clock()
    pacer = Pacer(4.0, clock, clock.sleep)

    pacer.wait()  # the first call goes at once
    pacer.wait()
    clock.now += 1.0  # a quiet second: no wait owed
    pacer.wait()

    assert clock.slept == [0.25]
