"""The probe responder's side in the database: which ports it listens on, and its observations
recorded as probe results (``manage.py probe_responder`` runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sites.models import ProbeDirection, ServiceProfile
from sites.probes.protocol import ErrorCode
from sites.probes.responder import BUSY, NO_LINE, Observation
from sites.services.probe_ports import actual_port
from sites.services.probes import Seen, record_observations

# Not worth a row each: connections that never sent a line, were turned away as the responder was
# full, or came from a source over its rate (a flood would otherwise become a database flood).
NOT_RECORDED = {NO_LINE, BUSY, ErrorCode.RATE_LIMITED}


@dataclass(frozen=True)
class ResponderPorts:
    """(protocol, profile port) → the port the responder listens on for it."""

    listen: dict[tuple[str, int], int]

    def endpoints(self, bind: str) -> list[tuple[str, int, str]]:
        """(address, port, protocol) of every socket the responder opens."""
        return [(bind, real, protocol) for (protocol, _), real in sorted(self.listen.items())]

    def profile_port(self, protocol: str, port: int) -> int:
        """The profile's port a probe arriving on the responder's ``port`` was meant for."""
        return self._profile_ports.get((protocol, port), port)

    @cached_property
    def _profile_ports(self) -> dict[tuple[str, int], int]:
        return {(protocol, real): port for (protocol, port), real in self.listen.items()}


def responder_ports() -> ResponderPorts:
    """Every outbound and monitoring port of every service profile, and where it is listened on."""
    ports = set()
    for profile in ServiceProfile.objects.all():
        for spec in [*profile.outbound_ports, *profile.monitoring_ports]:
            ports.add((spec["protocol"], int(spec["port"])))
    return ResponderPorts(
        {
            (protocol, port): actual_port(protocol, port, direction=ProbeDirection.OUTBOUND)
            for protocol, port in sorted(ports)
        }
    )


def record_responder_observations(batch: list[Observation], *, ports: ResponderPorts) -> int:
    """Record what the responder saw as outbound probe results (settling the runs they prove),
    under the profile's port numbers; returns how many new proofs were stored."""
    return record_observations(
        [
            Seen(
                run_id=o.run_id,
                direction=ProbeDirection.OUTBOUND,
                port=ports.profile_port(o.protocol, o.port),
                protocol=o.protocol,
                observed_ip=o.observed_ip,
                observed_port=o.observed_port,
                outcome=o.outcome,
                received_at=o.received_at,
                receipt=o.receipt,
            )
            for o in batch
            if o.outcome not in NOT_RECORDED
        ]
    )
