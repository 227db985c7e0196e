"""One doctor run's state: where it acts, what it checks, what it found on the way (the domain, what the cluster
answered), and its report. Each check module reads and adds to it, in :data:`ORDER`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logship_cli.context import Aws
from logship_cli.doctor.report import Report
from logship_cli.doctor.setup import Setup


@dataclass
class Run:
    aws: Aws
    setup: Setup
    ask_cluster: bool = True  # ask the cluster itself, from this machine
    report: Report = field(default_factory=Report)
    domain: Any = None  # facts.Domain, when the endpoint is a domain of this account
    collection: Any = None  # facts.Collection
    config: Any = None  # the functions' ShipperConfig, when their settings are whole
    flavor: Any = None  # what the cluster answered it is (logship.cluster.engine.Flavor)
    client: Any = None  # the layer's client, once the cluster answered from here
    unreachable: str = ""  # why the cluster did not answer from here

    @property
    def vpc_only(self) -> bool:
        return bool(self.domain is not None and self.domain.in_vpc)
