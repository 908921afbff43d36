"""The ``obm-…`` object names that the command-line renderers (Check Point, Cisco ASA, FortiGate,
Juniper SRX, PAN-OS, SonicWall) give the objects they create, so the customer finds them again.

- The backup hosts: ``obm-host`` (one address), ``obm-hosts`` (a range) or ``obm-lan`` (the
  LAN, when the host's address comes from DHCP).
- One object per protocol and port: ``obm-tcp-4403``, ``obm-udp-4403``.
- Several networks of one kind, named by the network: ``obm-dc-203.0.113.0-24``,
  ``obm-dc-198.51.100.0-24``; a network added or dropped leaves the others' names as they are
  (change plans key the objects by these names). The portal's check source among the monitoring
  sources is ``obm-check-…``: it is no monitoring computer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import PortSpec
from sites.policy import HostMatch, Rule
from sites.vendors.managed import network_key


def hosts_object_name(hosts: HostMatch) -> str:
    """``obm-host``, ``obm-hosts`` or ``obm-lan``, by the kind of ``hosts``."""
    return {"address": "obm-host", "range": "obm-hosts", "network": "obm-lan"}[hosts.kind]


def port_object_name(port: Rule | PortSpec) -> str:
    """The name of a service (application) object for one protocol and port: ``obm-tcp-4403``."""
    return f"obm-{port.protocol}-{port.port}"


def network_object_name(prefix: str, network: IPv4Network) -> str:
    """The name of the object holding one network: ``prefix-198.51.100.0-24``."""
    return f"{prefix}-{network_key(network)}"


def source_object_names(prefix: str, rule: Rule) -> list[str]:
    """One name per allowed source of ``rule``, in order: ``prefix-198.51.100.7-32`` for a
    monitoring computer, ``obm-check-198.51.100.200-32`` for the portal's check source, which
    is none of them (``sites.vendors.restriction``) and whose item is its own."""
    return [
        f"obm-check-{network_key(network)}"
        if network == rule.check_source
        else network_object_name(prefix, network)
        for network in rule.allowed_sources
    ]


def network_names(prefix: str, networks: Iterable[IPv4Network]) -> list[str]:
    """One name per network, by the network (``network_object_name``), in the given order."""
    return [network_object_name(prefix, network) for network in networks]


def whole_name(name: str) -> re.Pattern[str]:
    """``name`` as a whole object name in configuration text: not part of a longer name
    (``obm-dc`` in ``obm-dc-198.51.100.0-24``)."""
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")


def rename_name(text: str, old: str, new: str) -> str:
    """Every whole name ``old`` in ``text`` replaced by ``new`` (``sites.vendors.reuse``)."""
    return whole_name(old).sub(lambda _: new, text)
