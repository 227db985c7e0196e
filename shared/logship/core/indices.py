"""Where documents go: daily ``<prefix>-YYYY.MM.DD`` indices, or one ECS-named data stream.

One small value object, so the document builder, the fallbacks and the installer agree on every name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from logship.core.timefmt import index_day

# A daily index is <prefix>-YYYY.MM.DD, a year from 2000 to 2999 (payload.py keeps events to those), and a
# failed one <prefix>-failed-YYYY.MM.DD (any year: a batch without a usable time falls back to 1970). With every
# word of a prefix after a '-' starting with a letter, none of them "failed", and no prefix of a data stream's
# (logs-...), <prefix>-2* and <prefix>-failed-* match this stack's indices and no other stack's: cwl-2* never
# matches cwl-prod-2025.11.22, and cwl-prod's patterns never match cwl's indices.
_PREFIX = re.compile(r"[a-z0-9][a-z0-9_.]*(?:-[a-z][a-z0-9_.]*)*")
_FORBIDDEN = ' "*\\<|,>/?#:'


def prefix_problem(prefix: str) -> str:
    """Why ``prefix`` cannot name a stack's daily indices, or ``""``.

    The rules keep two stacks' index patterns apart on one cluster (``cwl`` and ``cwl-prod``): each
    template and retention policy claims its own indices and nothing else.
    """
    if prefix != prefix.lower() or any(c in prefix for c in _FORBIDDEN):
        return 'must be lowercase without spaces or any of " * \\ < | , > / ? # :'
    if not _PREFIX.fullmatch(prefix):
        return ("must start with a letter or digit, and every word after a '-' with a letter (cwl, cwl-prod, "
                "app.logs_v2), so that no other stack's daily indices match this one's patterns")
    if "failed" in prefix.split("-")[1:] or prefix == "failed":
        return "must not have a word 'failed': <prefix>-failed-YYYY.MM.DD is a stack's index of refused documents"
    if prefix == "logs" or prefix.startswith("logs-"):
        return "must not start with 'logs-': data streams are named logs-<dataset>-<namespace>"
    return ""


@dataclass(frozen=True, slots=True)
class IndexNaming:
    """``IndexNaming("cwl")`` writes daily indices; ``IndexNaming.stream("aws.lambda", "default")`` a data stream."""

    prefix: str = "cwl"
    data_stream: str = ""  # e.g. logs-aws.lambda-default; empty: daily indices
    failed_data_stream: str = ""  # e.g. logs-aws.lambda.failed-default

    @classmethod
    def stream(cls, dataset: str, namespace: str, prefix: str = "cwl") -> IndexNaming:
        """Elastic's data stream naming scheme ``<type>-<dataset>-<namespace>``, type ``logs``.

        Documents a cluster refuses for their content go to the dataset ``<dataset>.failed``: another
        stream of the same namespace, so the same template, retention and access rules cover it.
        """
        return cls(prefix, f"logs-{dataset}-{namespace}", f"logs-{dataset}.failed-{namespace}")

    @property
    def is_stream(self) -> bool:
        return bool(self.data_stream)

    def index(self, timestamp_ms: int) -> str:
        """Where a document with this ``@timestamp`` is written."""
        return self.data_stream or f"{self.prefix}-{index_day(timestamp_ms)}"

    def failed(self, timestamp_ms: int) -> str:
        """Where a document refused for its content is kept, with the reason."""
        return self.failed_data_stream or f"{self.prefix}-failed-{index_day(timestamp_ms)}"

    @property
    def name(self) -> str:
        """What the installed objects are called: the index template and the retention policy."""
        return f"logship-{self.data_stream or self.prefix}"

    @property
    def patterns(self) -> list[str]:
        """This stack's indices and nothing else: the two streams, or the prefix's daily and failed indices.

        The index template's and the retention policy's ``index_patterns``, and what searches name.
        """
        if self.is_stream:
            return [self.data_stream, self.failed_data_stream]
        return [f"{self.prefix}-2*", f"{self.prefix}-failed-*"]

    @property
    def described(self) -> str:
        if self.is_stream:
            return " and ".join(self.patterns)
        return f"{self.prefix}-YYYY.MM.DD and {self.prefix}-failed-YYYY.MM.DD"
