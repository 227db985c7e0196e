"""The CloudFormation custom resource protocol: recognise a request, answer it once at its pre-signed URL.

CloudFormation waits (up to an hour) for the answer: a missing one leaves the stack stuck, so answering
never raises and retries a failed PUT a few times.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import IO, Any

from logship.core.report import emit

SUCCESS = "SUCCESS"
FAILED = "FAILED"
REQUEST_TYPES = ("Create", "Update", "Delete")
_REASON_CHARS = 1500  # the whole response must stay under CloudFormation's 4 KB


def is_request(event: Any) -> bool:
    """True for ``{"RequestType": "Create"|"Update"|"Delete", "ResponseURL": ...}`` as CloudFormation sends."""
    return (isinstance(event, dict) and event.get("RequestType") in REQUEST_TYPES
            and isinstance(event.get("ResponseURL"), str))


def response_body(request: dict[str, Any], status: str, reason: str, physical_id: str,
                  data: dict[str, str] | None = None) -> dict[str, Any]:
    """What CloudFormation reads: Status, Reason, PhysicalResourceId, the ids that tie it to the request, and
    ``Data`` (the resource's attributes, for ``!GetAtt``)."""
    return {
        "Status": status,
        "Reason": reason[:_REASON_CHARS],
        "PhysicalResourceId": physical_id,
        "StackId": request.get("StackId", ""),
        "RequestId": request.get("RequestId", ""),
        "LogicalResourceId": request.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": data or {},
    }


def answer(request: dict[str, Any], status: str, reason: str, physical_id: str, *, attempts: int = 3,
           timeout_s: float = 10.0, stream: IO[str] | None = None, data: dict[str, str] | None = None) -> bool:
    """PUT the response to ``ResponseURL``; returns whether CloudFormation got it. Never raises."""
    body = json.dumps(response_body(request, status, reason, physical_id, data), default=str).encode()
    error = ""
    for attempt in range(attempts):
        try:
            # The URL is pre-signed without a content type: sending one would break the signature.
            put = urllib.request.Request(request["ResponseURL"], data=body, method="PUT",
                                         headers={"Content-Type": "", "Content-Length": str(len(body))})
            with urllib.request.urlopen(put, timeout=timeout_s) as response:
                response.read()
            emit({"logship": "custom-resource", "level": "info" if status == SUCCESS else "error",
                  "request_type": request.get("RequestType"),
                  "status": status, "reason": reason[:_REASON_CHARS], "physical_id": physical_id}, stream)
            return True
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, KeyError, TypeError) as exc:
            error = str(exc)
            if attempt + 1 < attempts:
                time.sleep(2.0 ** attempt)
    emit({"logship": "custom-resource", "level": "error", "request_type": request.get("RequestType"),
          "status": status, "message": f"could not answer CloudFormation after {attempts} attempts: {error}; "
          "the stack waits for its timeout (1 hour by default)"}, stream)
    return False
