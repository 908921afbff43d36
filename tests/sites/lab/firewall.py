"""The lab's firewall: the lab site's generated file and a built lab running one backend, shared by
the lab's test modules (their fixtures are in ``conftest.py``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from sites.description import GUIDE_PROFILE, SiteDescription
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.lab import topology as t
from tests.sites.lab.probes import Outcome

# The guide's profile, with the lab's datacenter network, as the portal serves it: the probe
# responder is the datacenter's address, the inbound checks come from CHECKER_ADDRESS.
PROFILE = dataclasses.replace(
    GUIDE_PROFILE,
    name="Packet lab",
    datacenter_networks=(IPv4Network(t.DATACENTER_NETWORK),),
    probe_responder=IPv4Address(t.DATACENTER_ADDRESS),
    probe_check_source=IPv4Address(t.CHECKER_ADDRESS),
)


def lab_site(vendor: str, **changes) -> SiteDescription:
    """The lab's site for ``vendor``; ``changes`` replace fields of the description."""
    return SiteDescription.from_dict(
        {
            "name": "Packet lab",
            "vendor": vendor,
            "inside_interface": t.FW_INSIDE,
            "outside_interface": t.FW_OUTSIDE,
            "public_address": t.PUBLIC_ADDRESS,
            "lan_network": t.LAN_NETWORK,
            "lan_gateway": t.LAN_GATEWAY,
            "host_addressing": "static",
            "host_address": t.HOST_ADDRESS,
            "monitoring_enabled": True,
            "monitoring_sources": [f"{t.MONITOR_ADDRESS}/32"],
            "host_os": "linux",
            **changes,
        }
    )


def generated_file(vendor: str) -> str:
    site = lab_site(vendor)
    return config_file(get_renderer(vendor).render(derive_rules(site, PROFILE), site, PROFILE))


@dataclass
class Firewall:
    """A built lab whose ``fw`` namespace runs ``backend`` (baseline, then maybe the rules)."""

    lab: t.Lab
    backend: t.Backend
    config: str = ""  # the generated file, once loaded

    def ns(self, role: str) -> str:
        return self.lab.ns(role)

    def explain(self, outcome: Outcome | None = None, seen: list | None = None) -> str:
        """Everything needed to understand a failure: the probe, the file, the live ruleset."""
        return (
            f"\nprobe: {outcome}\nlistener saw: {seen}\n"
            f"--- generated file ({self.backend.name}) ---\n{self.config or '(not loaded)'}"
            f"--- live ruleset in {self.ns(t.FW)} ---\n{self.lab.ruleset(self.backend)}"
        )


def normalised(vendor: str, text: str) -> str:
    """The ruleset as compared before and after: ``nft -s list ruleset`` as it is (stateless: no
    counters); ``iptables-save`` without its dated comment lines and counters, and without a nat
    table that holds nothing: no rules, no chains of its own, every policy ACCEPT.

    That table is not something the plan left behind by mistake: iptables has no command that
    deletes a table. Loading version 1 creates it (its DNAT and MASQUERADE rules), the removal plan
    deletes every rule in it, and what stays translates nothing. The legacy backend's nat table even
    exists before version 1 (emptying the firewall between cases loads it), so it is dropped on
    both sides of the comparison alike."""
    if vendor == "nftables":
        return text
    lines = [
        re.sub(r" \[\d+:\d+\]$", "", line)
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tables: list[list[str]] = []
    for line in lines:
        if line.startswith("*"):
            tables.append([])
        tables[-1].append(line)
    builtin = re.compile(r":(PREROUTING|INPUT|OUTPUT|POSTROUTING) ACCEPT")
    kept = [
        table
        for table in tables
        if not (table[0] == "*nat" and all(builtin.fullmatch(line) for line in table[1:-1]))
    ]
    return "\n".join(line for table in kept for line in table) + "\n"


def same_rules(text: str) -> list[str]:
    """The ruleset's lines in sorted order: a plan appends or inserts where a fresh load puts
    rules in file order, and the order of our accepts among themselves does not matter."""
    return sorted(line.strip() for line in text.splitlines() if line.strip())
