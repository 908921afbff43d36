"""The ``obm-…`` object names that the command-line renderers (Check Point, Cisco ASA, FortiGate,
Juniper SRX, PAN-OS, SonicWall) give the objects they create, so the customer finds them again.

- The backup hosts: ``obm-host`` (one address), ``obm-hosts`` (a range) or ``obm-lan`` (the
  LAN, when the host's address comes from DHCP).
- One object per protocol and port: ``obm-tcp-4403``, ``obm-udp-4403``.
- Several networks of one kind: ``obm-dc-1``, ``obm-dc-2``, …
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import PortSpec
from sites.policy import HostMatch, Rule


def hosts_object_name(hosts: HostMatch) -> str:
    """``obm-host``, ``obm-hosts`` or ``obm-lan``, by the kind of ``hosts``."""
    return {"address": "obm-host", "range": "obm-hosts", "network": "obm-lan"}[hosts.kind]


def port_object_name(port: Rule | PortSpec) -> str:
    """The name of a service (application) object for one protocol and port: ``obm-tcp-4403``."""
    return f"obm-{port.protocol}-{port.port}"


def numbered_names(prefix: str, networks: tuple[IPv4Network, ...]) -> list[str]:
    """One name per network: ``prefix-1``, ``prefix-2``, …"""
    return [f"{prefix}-{n}" for n in range(1, len(networks) + 1)]
