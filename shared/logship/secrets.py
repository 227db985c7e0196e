"""Basic-auth credentials fetched from Secrets Manager at runtime and cached with an expiry.

Never from an environment variable: a rotated password is picked up within the TTL, and a 401
forces a fresh read (see :meth:`CachedSecret.invalidate`).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any


class SecretError(RuntimeError):
    """The secret is missing, unreadable or lacks ``username``/``password``."""


def secret_error_in(exc: BaseException) -> SecretError | None:
    """The :class:`SecretError` behind ``exc``, if any.

    The secret is read inside the request's auth callable, so opensearch-py reports its failure as a
    connection error; the cause says what really went wrong.
    """
    cause: Any = getattr(exc, "info", None)
    for _ in range(5):  # the cause, or what it was raised from
        if isinstance(cause, SecretError) or not isinstance(cause, BaseException):
            return cause if isinstance(cause, SecretError) else None
        cause = cause.__cause__ or cause.__context__
    return None


class CachedSecret:
    """``username``/``password`` from one secret, re-read after ``ttl_seconds``."""

    def __init__(self, client: Any, secret_arn: str, ttl_seconds: int = 300,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._arn = secret_arn
        self._ttl = ttl_seconds
        self._clock = clock
        self._value: tuple[str, str] | None = None
        self._expires = 0.0

    def credentials(self) -> tuple[str, str]:
        if self._value is None or self._clock() >= self._expires:
            self._value = self._fetch()
            self._expires = self._clock() + self._ttl
        return self._value

    def invalidate(self) -> None:
        self._value = None

    def _fetch(self) -> tuple[str, str]:
        try:
            response = self._client.get_secret_value(SecretId=self._arn)
        except Exception as exc:
            raise SecretError(
                f"cannot read secret {self._arn}: {exc}. Check OPENSEARCH_SECRET_ARN and that the "
                "function's role has secretsmanager:GetSecretValue on it"
            ) from exc
        return _credentials(self._arn, response.get("SecretString"))


_SHAPE = '{"username": ..., "password": ...}'


def _credentials(arn: str, text: Any) -> tuple[str, str]:
    """``username``/``password`` from the secret's text, or an error naming what is wrong (never a value)."""
    if not isinstance(text, str):
        raise SecretError(f"secret {arn} has no SecretString (a binary secret?); store {_SHAPE} as its text")
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretError(f"secret {arn} is not JSON; it must be the JSON string {_SHAPE}") from None
    if not isinstance(value, dict):
        raise SecretError(f"secret {arn} is a JSON {type(value).__name__}; it must be the JSON string {_SHAPE}")
    wrong = [key for key in ("username", "password") if not isinstance(value.get(key), str) or not value[key]]
    if wrong:
        raise SecretError(f"secret {arn} must be a JSON string {_SHAPE}: {' and '.join(wrong)} missing, empty "
                          f"or not a string (keys found: {', '.join(sorted(map(str, value))) or 'none'})")
    if ":" in value["username"]:
        raise SecretError(f"secret {arn}: the username contains ':', which basic auth cannot carry")
    return value["username"], value["password"]


class BasicAuthHeader:
    """An ``http_auth`` callable for opensearch-py's urllib3 connection: a fresh header per request."""

    def __init__(self, secret: CachedSecret) -> None:
        self._secret = secret

    def refresh(self) -> None:
        """After a 401: the password may have been rotated; read the secret again on the next request."""
        self._secret.invalidate()

    def __call__(self, method: str, url: str, body: Any, headers: Any = None) -> dict[str, str]:
        username, password = self._secret.credentials()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"authorization": f"Basic {token}"}
