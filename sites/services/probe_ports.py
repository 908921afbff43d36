"""Where a service profile's probe port really is: the profile's own port, unless a lab or a
test moved it (free high ports instead of 4401 and 4403)."""

from __future__ import annotations

from django.conf import settings

from sites.models import ProbeDirection, ProbeRun


def actual_port(protocol: str, port: int, *, direction: str) -> int:
    """The port used for the profile's ``protocol``/``port``: outbound, where the responder
    listens and the probe client connects (``PROBE_PORT_MAP``); inbound, where the worker finds
    the site's listener (``PROBE_INBOUND_PORT_MAP``)."""
    port_map = (
        settings.PROBE_INBOUND_PORT_MAP
        if direction == ProbeDirection.INBOUND
        else settings.PROBE_PORT_MAP
    )
    return port_map.get(f"{protocol}/{port}", port)


def client_ports(run: ProbeRun) -> tuple[list[int], list[int]]:
    """The TCP and the UDP ports a probe client sends an outbound ``run``'s probes to."""
    tcp, udp = [], []
    for expected in run.expected:
        port = actual_port(
            expected["protocol"], expected["port"], direction=ProbeDirection.OUTBOUND
        )
        (tcp if expected["protocol"] == "tcp" else udp).append(port)
    return tcp, udp
