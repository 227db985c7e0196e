"""Read the CloudTrail records (as EventBridge delivers them) that tell the subscriber of a group to look at: a
``CreateLogGroup`` call, or a Lambda call that decides where a function logs (``CreateFunction20150331``,
``UpdateFunctionConfiguration20150331v2``, ``source: aws.lambda``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from logship.core.selection import LAMBDA_PREFIX


@dataclass(frozen=True, slots=True)
class CreatedLogGroup:
    """What a CloudTrail event delivered by EventBridge asks of us: a group name, or why there is nothing to do."""

    name: str | None
    skipped: str | None = None
    error_code: str | None = None
    tags: Mapping[str, str] | None = None  # the tags the call gave the group, when the record has them
    created_ms: int | None = None  # when the call was made (CloudTrail's eventTime), epoch milliseconds
    log_class: str | None = None  # the logGroupClass the call asked for; absent means Standard


def created_log_group(event: Any) -> CreatedLogGroup:
    """Read the group a CloudTrail ``CreateLogGroup`` record created; anything else is skipped with the reason.

    >>> created_log_group({"detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup",
    ...                                "requestParameters": {"logGroupName": "/aws/lambda/orders"}}}).name
    '/aws/lambda/orders'
    """
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        return CreatedLogGroup(None, "not a CloudTrail event delivered by EventBridge: no 'detail' object")
    call = f"{detail.get('eventSource')} {detail.get('eventName')}"
    if call != "logs.amazonaws.com CreateLogGroup":
        return CreatedLogGroup(None, f"not a CreateLogGroup call: {call}")
    parameters = detail.get("requestParameters")
    name = parameters.get("logGroupName") if isinstance(parameters, dict) else None
    if detail.get("errorCode"):
        return CreatedLogGroup(name, f"CreateLogGroup failed with {detail['errorCode']}: "
                                     f"{detail.get('errorMessage', 'no message')}", str(detail["errorCode"]))
    if not isinstance(name, str) or not name:
        return CreatedLogGroup(None, "CreateLogGroup record without requestParameters.logGroupName")
    tags = parameters.get("tags") if isinstance(parameters, dict) else None
    if not (isinstance(tags, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())):
        tags = None
    log_class = parameters.get("logGroupClass")
    return CreatedLogGroup(name, tags=tags, created_ms=_epoch_ms(detail.get("eventTime")),
                           log_class=log_class if isinstance(log_class, str) and log_class else None)


def _epoch_ms(text: Any) -> int | None:
    """CloudTrail's ``2025-11-22T10:00:00Z`` as epoch milliseconds; None if absent or unreadable."""
    try:
        return int(datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


CALLS = ("CreateFunction20150331", "UpdateFunctionConfiguration20150331v2")


@dataclass(frozen=True, slots=True)
class FunctionLogging:
    """The function a record is about and the group it logs to (None: an update's record does not say; ask
    Lambda)."""

    function: str | None
    log_group: str | None = None
    skipped: str | None = None
    error_code: str | None = None


def function_logging(detail: dict[str, Any]) -> FunctionLogging:
    """``detail`` of a Lambda CreateFunction or UpdateFunctionConfiguration record -> where the function logs.

    >>> function_logging({"eventSource": "lambda.amazonaws.com", "eventName": "CreateFunction20150331",
    ...                   "requestParameters": {"functionName": "orders", "loggingConfig": {"logGroup": "/shared/app"}},
    ...                   "responseElements": {"functionName": "orders"}}).log_group
    '/shared/app'
    """
    call = str(detail.get("eventName"))
    request = detail.get("requestParameters") if isinstance(detail.get("requestParameters"), dict) else {}
    response = detail.get("responseElements") if isinstance(detail.get("responseElements"), dict) else {}
    # The response names the function; the request may give an ARN or a partial ARN instead of its name.
    function = response.get("functionName") or _function_name(request.get("functionName"))
    if detail.get("errorCode"):
        return FunctionLogging(function, skipped=f"{call} failed with {detail['errorCode']}: "
                                                 f"{detail.get('errorMessage', 'no message')}",
                               error_code=str(detail["errorCode"]))
    if not isinstance(function, str) or not function:
        return FunctionLogging(None, skipped=f"{call} record without the function's name")
    if call != CALLS[0] and "loggingConfig" not in request:
        return FunctionLogging(function, skipped=f"{call} did not change where {function} logs (no loggingConfig)")
    for source in (response, request):
        logging = source.get("loggingConfig")
        if isinstance(logging, dict) and isinstance(logging.get("logGroup"), str) and logging["logGroup"]:
            return FunctionLogging(function, logging["logGroup"])
    if call == CALLS[0]:  # created without a group of its own: Lambda's default
        return FunctionLogging(function, f"{LAMBDA_PREFIX}{function}")
    return FunctionLogging(function)  # an update whose record does not name the group: ask Lambda


def _function_name(value: Any) -> str | None:
    """``orders``, ``123456789012:function:orders`` or ``arn:aws:lambda:...:function:orders[:alias]`` -> ``orders``."""
    if not isinstance(value, str) or not value:
        return None
    parts = value.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1] or None
    return parts[0]
