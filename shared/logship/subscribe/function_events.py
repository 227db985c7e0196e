"""Read the CloudTrail records of Lambda calls that decide where a function logs: creating it, or changing its
configuration (``CreateFunction20150331``, ``UpdateFunctionConfiguration20150331v2``, as EventBridge delivers
them with ``source: aws.lambda``). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logship.subscribe.selection import LAMBDA_PREFIX

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
