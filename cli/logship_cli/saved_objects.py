"""The saved-objects import API of OpenSearch Dashboards and Kibana: one documented multipart request.

``POST <url>/api/saved_objects/_import?overwrite=true`` with ``osd-xsrf: true`` (OpenSearch Dashboards) or
``kbn-xsrf: true`` (Kibana), and the NDJSON as the form's ``file`` part, whose name must end ``.ndjson``.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logship_cli.errors import CliError

IMPORT_PATH = "/api/saved_objects/_import?overwrite=true"
XSRF = {"opensearch": "osd-xsrf", "kibana": "kbn-xsrf"}
NAMES = {"opensearch": "OpenSearch Dashboards", "kibana": "Kibana"}
# Signs a request in place (SigV4): (method, url, headers, body) -> headers to add.
Signer = Callable[[str, str, dict[str, str], bytes], dict[str, str]]


@dataclass(frozen=True)
class ImportRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def import_request(base_url: str, ndjson: str, product: str, filename: str = "logship.ndjson") -> ImportRequest:
    """The request, built by hand so what goes on the wire is exactly the documented form."""
    boundary = f"logship-{uuid.uuid4().hex}"
    body = (f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n").encode() + ndjson.encode() + \
        f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", XSRF[product]: "true"}
    return ImportRequest(base_url.rstrip("/") + IMPORT_PATH, headers, body)


def basic_header(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def sigv4_signer(region: str) -> Signer:
    """Amazon OpenSearch Service serves Dashboards at ``https://DOMAIN/_dashboards``, signed for ``es``."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = boto3.session.Session().get_credentials()
    if credentials is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()

    def sign(method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "es", region).add_auth(request)
        return {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "x-amz-date",
                                                                          "x-amz-security-token")}

    return sign


def send(request: ImportRequest, product: str, *, auth: dict[str, str] | None = None, signer: Signer | None = None,
         timeout_s: float = 60.0) -> dict[str, Any]:
    """POST the import; the product's JSON answer, or a CliError saying what to check."""
    headers = dict(request.headers) | (auth or {})
    if signer is not None:
        headers |= signer("POST", request.url, headers, request.body)
    http = urllib.request.Request(request.url, data=request.body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(http, timeout=timeout_s) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise CliError(_refusal(exc.code, exc.read().decode(errors="replace"), request.url, product)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(f"could not reach {request.url} ({reason}): check --url (for Amazon OpenSearch Service, "
                       "https://DOMAIN/_dashboards) and that this machine can reach it (a VPC-only domain: a VPN "
                       "or a bastion)") from None
    except ValueError:
        raise CliError(f"{request.url} did not answer JSON: is --url the {NAMES[product]} address?") from None


def _refusal(status: int, text: str, url: str, product: str) -> str:
    if status in (401, 403):
        return (f"{NAMES[product]} refused the import ({status}): check --auth and the credentials, and that they "
                f"may manage saved objects. It said: {text[:300]}")
    if status == 404:
        return (f"no saved-objects API at {url} (404): is --url the {NAMES[product]} address (not the cluster's)? "
                "For Amazon OpenSearch Service it is https://DOMAIN/_dashboards; for a Kibana space, "
                "https://KIBANA/s/SPACE")
    if status == 400 and ("xsrf" in text.lower()):
        other = "--kibana" if product == "opensearch" else "no --kibana"
        return f"the server wants another xsrf header ({text[:200]}): is it the other product? try {other}"
    return f"{NAMES[product]} answered {status}: {text[:500]}"
