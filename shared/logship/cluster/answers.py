"""What a cluster said when it refused a request: its status, error type and reason, in its own words.

The installer tells "this cluster has no such API" from "the cluster refused this request" by these: an
unknown path is answered ``no handler found for uri [...] and method [...]`` by OpenSearch and Elasticsearch
alike (``RestController#handleBadRequest``), while a refusal names its exception and reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from opensearchpy.exceptions import TransportError


@dataclass(frozen=True, slots=True)
class ClusterAnswer:
    status: int | str
    type: str
    reason: str

    @classmethod
    def of(cls, exc: TransportError) -> ClusterAnswer:
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error")
        if isinstance(error, dict):
            cause = error.get("root_cause")
            first = cause[0] if isinstance(cause, list) and cause and isinstance(cause[0], dict) else {}
            reason = error.get("reason") or first.get("reason") or ""
            return cls(exc.status_code, str(error.get("type", exc.error)), str(reason)[:500])
        return cls(exc.status_code, "", str(error if error is not None else exc.info or exc.error)[:500])

    @classmethod
    def refusal(cls, exc: TransportError) -> ClusterAnswer:
        """The cluster's refusal in ``exc``; ``exc`` itself is raised again when it is no refusal but a cluster
        that did not answer, or may answer otherwise next time (429, 5xx): the install's caller says what to check."""
        if not isinstance(exc.status_code, int) or exc.status_code == 429 or exc.status_code >= 500:
            raise exc
        return cls.of(exc)

    @property
    def unknown_path(self) -> bool:
        """The cluster serves no such API (a plugin or feature it does not have), as opposed to refusing."""
        return not self.type and self.reason.startswith("no handler found for uri")

    def __str__(self) -> str:
        kind = f" {self.type}" if self.type else ""
        return f"{self.status}{kind}: {self.reason}"


class InstallError(RuntimeError):
    """The cluster does not fit the settings, or refused what the installer sent; says why and what to do."""
