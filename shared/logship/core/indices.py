"""Where documents go: daily ``<prefix>-YYYY.MM.DD`` indices, or one ECS-named data stream.

One small value object, so the document builder, the fallbacks and the installer agree on every name.
"""

from __future__ import annotations

from dataclasses import dataclass

from logship.core.timefmt import index_day


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
        """The index template's ``index_patterns``: the two streams, or every daily index of the prefix."""
        return [self.data_stream, self.failed_data_stream] if self.is_stream else [f"{self.prefix}-*"]

    @property
    def described(self) -> str:
        return " and ".join(self.patterns) if self.is_stream else f"{self.prefix}-*"
