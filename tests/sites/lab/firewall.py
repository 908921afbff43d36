"""The lab's firewall: the lab site's generated file and a built lab running one backend, shared by
the lab's test modules (their fixtures are in ``conftest.py``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import GUIDE_PROFILE, SiteDescription
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.lab import topology as t
from tests.sites.lab.probes import Outcome

# The guide's profile, with the lab's datacenter network.
PROFILE = dataclasses.replace(
    GUIDE_PROFILE, name="Packet lab", datacenter_networks=(IPv4Network(t.DATACENTER_NETWORK),)
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
