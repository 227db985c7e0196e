"""Credentials (basic auth, Elasticsearch API keys) fetched from Secrets Manager at runtime, cached with an expiry.

Never from an environment variable: a rotated password or key is picked up within the TTL, and a 401
forces a fresh read (see :meth:`CachedSecret.invalidate`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SecretError(RuntimeError):
    """The secret is missing, unreadable or not in the shape its auth mode needs."""


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


_SHAPE = '{"username": ..., "password": ...}'
_KEY_SHAPE = '{"id": ..., "api_key": ...} (or {"encoded": ...}, as Kibana shows a new key)'


def _object(arn: str, text: Any, shape: str) -> dict[str, Any]:
    """The secret's text as a JSON object, or an error naming what is wrong (never a value)."""
    if not isinstance(text, str):
        raise SecretError(f"secret {arn} has no SecretString (a binary secret?); store {shape} as its text")
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretError(f"secret {arn} is not JSON; it must be the JSON string {shape}") from None
    if not isinstance(value, dict):
        raise SecretError(f"secret {arn} is a JSON {type(value).__name__}; it must be the JSON string {shape}")
    return value


def _missing(value: dict[str, Any], *keys: str) -> list[str]:
    return [key for key in keys if not isinstance(value.get(key), str) or not value[key]]


def _found(value: dict[str, Any]) -> str:
    return ", ".join(sorted(map(str, value))) or "none"


def basic_credentials(arn: str, text: Any) -> tuple[str, str]:
    """``username``/``password`` from the secret's text, or an error naming what is wrong (never a value)."""
    return _pair(arn, _object(arn, text, _SHAPE), _SHAPE, ("username", "password"), ("the username", "basic auth"))


def api_key_token(arn: str, text: Any) -> str:
    """The ``ApiKey`` header's token, ``base64("id:api_key")``, from ``{"id", "api_key"}`` or ``{"encoded"}``.

    Kibana's "encoded" form is that base64 already; it is checked to decode to ``id:api_key`` so that the
    other forms Kibana offers (``id:api_key`` in clear, for Beats) are named as such instead of sent.
    """
    value = _object(arn, text, _KEY_SHAPE)
    if "encoded" in value:
        encoded = value["encoded"]
        if not isinstance(encoded, str) or not _decodes_to_id_and_key(encoded):
            raise SecretError(f"secret {arn}: \"encoded\" must be the base64 of id:api_key (Kibana's \"Encoded\" "
                              "form); for the id:api_key form, store {\"id\": ..., \"api_key\": ...} instead")
        return encoded.strip()
    key_id, api_key = _pair(arn, value, _KEY_SHAPE, ("id", "api_key"), ("the API key id", "the ApiKey header"))
    return base64.b64encode(f"{key_id}:{api_key}".encode()).decode()


def _pair(arn: str, value: dict[str, Any], shape: str, keys: tuple[str, str],
          names: tuple[str, str]) -> tuple[str, str]:
    """The two non-empty strings ``keys`` name, the first without ':' (``names``: what it is, what carries it)."""
    wrong = _missing(value, *keys)
    if wrong:
        raise SecretError(f"secret {arn} must be a JSON string {shape}: {' and '.join(wrong)} missing, empty "
                          f"or not a string (keys found: {_found(value)})")
    first, second = value[keys[0]], value[keys[1]]
    if ":" in first:
        raise SecretError(f"secret {arn}: {names[0]} contains ':', which {names[1]} cannot carry")
    return first, second


def _decodes_to_id_and_key(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    key_id, colon, key = decoded.partition(":")
    return bool(key_id and colon and key)


class CachedSecret(Generic[T]):
    """One secret, read into credentials by ``parse`` (default: ``username``/``password``), re-read after the TTL.

    ``CachedSecret(client, arn, parse=api_key_token)`` holds an Elasticsearch API key instead.
    """

    def __init__(self, client: Any, secret_arn: str, ttl_seconds: int = 300,
                 clock: Callable[[], float] = time.monotonic,
                 parse: Callable[[str, Any], T] = basic_credentials) -> None:  # type: ignore[assignment]
        self._client = client
        self._arn = secret_arn
        self._ttl = ttl_seconds
        self._clock = clock
        self._parse = parse
        self._value: T | None = None
        self._expires = 0.0

    def credentials(self) -> T:
        if self._value is None or self._clock() >= self._expires:
            self._value = self._fetch()
            self._expires = self._clock() + self._ttl
        return self._value

    def invalidate(self) -> None:
        self._value = None

    def _fetch(self) -> T:
        try:
            response = self._client.get_secret_value(SecretId=self._arn)
        except Exception as exc:
            raise SecretError(
                f"cannot read secret {self._arn}: {exc}. Check OPENSEARCH_SECRET_ARN and that the "
                "function's role has secretsmanager:GetSecretValue on it"
            ) from exc
        return self._parse(self._arn, response.get("SecretString"))


class BasicAuthHeader:
    """An ``http_auth`` callable for opensearch-py's urllib3 connection: a fresh header per request."""

    def __init__(self, secret: CachedSecret[tuple[str, str]]) -> None:
        self._secret = secret

    def refresh(self) -> None:
        """After a 401: the password may have been rotated; read the secret again on the next request."""
        self._secret.invalidate()

    def __call__(self, method: str, url: str, body: Any, headers: Any = None) -> dict[str, str]:
        username, password = self._secret.credentials()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"authorization": f"Basic {token}"}


class ApiKeyHeader:
    """``Authorization: ApiKey <base64 of id:api_key>`` for Elasticsearch, from the cached secret."""

    def __init__(self, secret: CachedSecret[str]) -> None:
        self._secret = secret

    def refresh(self) -> None:
        """After a 401: the key may have been rotated (a new key stored in the secret); read it again."""
        self._secret.invalidate()

    def __call__(self, method: str, url: str, body: Any, headers: Any = None) -> dict[str, str]:
        return {"authorization": f"ApiKey {self._secret.credentials()}"}
