"""Errors a user can act on: what happened and what to do next, never a traceback for a user's mistake.

Exit codes scripts can rely on: 0 done, 1 failed (AWS, the cluster, something left to fix), 2 usage (an option
or argument is wrong; click's own errors exit 2 as well).
"""

from __future__ import annotations

import re

import click

FAILED = 1
USAGE = 2

_CREDENTIALS = ("no AWS credentials found: run `aws configure` (or `aws sso login`), or set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
_EXPIRED = ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
            "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch")
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")
_QUEUE_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
# ShipperConfig names environment variables; on the command line they are options.
_OPTIONS = {"OPENSEARCH_ENDPOINT": "--endpoint", "OPENSEARCH_AUTH": "--auth",
            "OPENSEARCH_SECRET_ARN": "--secret-arn", "INDEX_PREFIX": "--prefix"}


class CliError(click.ClickException):
    """A failure explained for a person; ``exit_code`` 1 (failed) or 2 (usage)."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def explain(exc: BaseException, *, endpoint: str = "") -> CliError:
    """The error a person sees for ``exc``, with what to do next; unknown errors say so plainly."""
    from botocore.exceptions import BotoCoreError, ClientError

    from logship.core.config import ConfigError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ConfigError):
        return CliError(f"bad setting: {_as_options(str(exc))}", USAGE)
    if isinstance(exc, ClientError):
        return CliError(_aws_answer(exc))
    if isinstance(exc, BotoCoreError):
        return CliError(_aws_failure(exc))
    cluster = _cluster_failure(exc, endpoint)
    if cluster is not None:
        return CliError(cluster)
    return CliError(f"unexpected {type(exc).__name__}: {exc} (run `logship --debug ...` for the traceback, and "
                    "report it if it is not yours to fix)")


def _as_options(text: str) -> str:
    """``OPENSEARCH_AUTH=basic needs OPENSEARCH_SECRET_ARN`` names the options too: ``--auth (OPENSEARCH_AUTH)``."""
    return re.sub("|".join(_OPTIONS), lambda m: f"{_OPTIONS[m[0]]} ({m[0]})", text)


def _aws_answer(exc: BaseException) -> str:
    from logship.core.aws_calls import error_code

    code, message = error_code(exc)
    operation = getattr(exc, "operation_name", "the call")
    if code in _EXPIRED:
        return (f"AWS refused your credentials ({code}: {message}): they are expired or wrong; log in again "
                "(`aws sso login`, or refresh AWS_SESSION_TOKEN) and retry")
    if code in _DENIED:
        return (f"AWS denied {operation} ({code}): {message}. Your credentials need that permission; the "
                "docs/command.md lists what each command calls")
    if code in _QUEUE_GONE:
        return (f"the queue does not exist ({message}): check --queue-url against the stack's DeadLetterQueueUrl "
                "output, and --region")
    return f"AWS answered {code} to {operation}: {message}"


def _aws_failure(exc: BaseException) -> str:
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return _CREDENTIALS
    if isinstance(exc, NoRegionError):
        return "no AWS region: give --region, or set AWS_REGION (or a region in samconfig.toml)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return f"could not reach AWS ({exc}): check your network, proxy and --region"
    return f"AWS call failed: {type(exc).__name__}: {exc}"


def _cluster_failure(exc: BaseException, endpoint: str) -> str | None:
    """opensearch-py's errors and the layer's secret errors; unreachable in the installer's own words."""
    from opensearchpy.exceptions import ConnectionError as Unreachable
    from opensearchpy.exceptions import OpenSearchException, TransportError

    from logship.cluster.index_template import failure_reason
    from logship.cluster.secrets import SecretError, secret_error_in

    if not isinstance(exc, OpenSearchException | SecretError):
        return None
    endpoint = endpoint or "the cluster"
    secret = exc if isinstance(exc, SecretError) else secret_error_in(exc)  # type: ignore[arg-type]
    if secret is not None or isinstance(exc, Unreachable):
        return failure_reason(exc, endpoint, None)  # type: ignore[arg-type]
    if isinstance(exc, TransportError) and exc.status_code in (401, 403):
        return (f"{endpoint} refused the request ({exc.status_code}: {str(exc.error)[:200]}): check --auth (sigv4 "
                "signs with your AWS credentials, basic reads --secret-arn) and that you may use the index "
                "prefix's indices (with fine-grained access control: a role mapping for your identity)")
    if isinstance(exc, TransportError):
        return f"{endpoint} answered {exc.status_code}: {str(exc.error)[:300]} {str(exc.info)[:300]}".rstrip()
    return failure_reason(exc, endpoint, None)  # type: ignore[arg-type]
