"""Example addresses for the policy-match commands of the verify steps (PAN-OS ``test
security-policy-match``, Junos ``show security match-policies``, ASA ``packet-tracer``): an
address each rule covers, so the command shows the rule that matches real traffic.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from sites.policy import HostMatch

# Any outside address will do when monitoring is allowed from anywhere.
ANY_OUTSIDE_ADDRESS = IPv4Address("198.51.100.1")


def address_in(network: IPv4Network) -> IPv4Address:
    """An address inside ``network``: its first host address (the network address of a /31
    or /32)."""
    return network.network_address if network.num_addresses <= 2 else network.network_address + 1


def backup_host_address(hosts: HostMatch) -> IPv4Address:
    """An address the outbound rule covers: the host, the range start, or the middle of the LAN."""
    if hosts.network is not None:
        return hosts.network.network_address + hosts.network.num_addresses // 2
    return hosts.start


def monitoring_source_address(sources: tuple[IPv4Network, ...]) -> IPv4Address:
    """An address of the first monitoring source, or any outside address if there is none."""
    return address_in(sources[0]) if sources else ANY_OUTSIDE_ADDRESS
