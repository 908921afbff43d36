"""Instructions placed above a customer's deny (``sites.vendors.reuse``), in a real firewall: a
customer ruleset whose drop, in a chain that runs before ours, refuses the backup port. The
analysis of what the kernel lists back finds that drop; the plain instructions leave the backup
blocked; the adjusted ones let real TCP 4401 through while the customer's other denies still
hold (another port of the same dropped range, another LAN host, a port the filter never allowed);
and the removal plan made from the adjusted version returns the ruleset to the customer's own,
refusing the backup again.

Needs root and network namespaces, like the rest of the packet lab (docs/packet-lab.md).
"""

from __future__ import annotations

import secrets

import pytest

from sites.analyzer.analyze import analyze
from sites.analyzer.flows import Flow
from sites.plans.applied import AppliedCheck
from sites.plans.engine import plan_removal
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from sites.vendors.reuse import adjust_to
from tests.sites.analyzer.test_adjusted import iptables_mangle_drop
from tests.sites.lab import topology as t
from tests.sites.lab.firewall import PROFILE, lab_site, normalised
from tests.sites.lab.probes import Listener, connect

OPEN_TIMEOUT = 5.0
BLOCKED_TIMEOUT = 1.0

# The customer's firewall: forwarding dropped by default, the LAN may browse (443), and a
# "blocked port ranges" rule in a chain that runs before the filter: the mangle table's FORWARD
# for iptables, a second base chain at a lower priority for nftables.
IPTABLES_CUSTOMER = iptables_mangle_drop(
    t.FW_INSIDE, t.FW_OUTSIDE, more_drops="-A FORWARD -p tcp -m tcp --dport 6881:6889 -j DROP\n"
)
NFT_CUSTOMER = f"""\
table inet filter {{
	chain forward {{
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "{t.FW_INSIDE}" oifname "{t.FW_OUTSIDE}" tcp dport 443 accept
	}}
}}
table ip blocklist {{
	chain forward {{
		type filter hook forward priority -10; policy accept;
		tcp dport 6881-6889 drop
		tcp dport 4000-4999 drop
	}}
}}
table ip nat {{
	chain postrouting {{
		type nat hook postrouting priority srcnat; policy accept;
		oifname "{t.FW_OUTSIDE}" masquerade
	}}
}}
"""
CASES = {
    "iptables-nft": (IPTABLES_CUSTOMER, ("iptables-nft-restore",), ("iptables-nft-save",)),
    "nftables": (NFT_CUSTOMER, ("nft", "-f", "-"), ("nft", "list", "ruleset")),
}


def _reaches(fw: t.Lab, source: str, port: int, *, timeout: float) -> bool:
    token = secrets.token_hex(8)
    with Listener(fw.ns(t.DC), "tcp", port) as listener:
        outcome = connect(fw.ns(source), "tcp", t.DATACENTER_ADDRESS, port, token, timeout=timeout)
    return outcome.ok and any(o.get("token") == token for o in listener.observations)


@pytest.fixture(params=list(CASES))
def customer(request, namespaces, tmp_path):
    backend = t.BACKENDS[request.param]
    text, load, listing = CASES[request.param]
    lab = t.Lab()
    try:
        lab.build()
        lab.exec(t.FW, *load, input=text)
        yield lab, backend, text, load, listing, tmp_path
    finally:
        lab.destroy()


def test_adjusted_rules_pass_above_the_customers_drop(customer):
    lab, backend, text, load, listing, tmp_path = customer
    vendor = backend.vendor
    site = lab_site(vendor, monitoring_enabled=False, monitoring_sources=[], public_address=None)
    listed = lab.exec(t.FW, *listing).stdout
    analysis = analyze(listed, vendor, site, PROFILE)
    backup = analysis.results[0]
    assert backup.flow == Flow.parse(
        f"tcp:{t.HOST_ADDRESS}->203.0.113.1:4401"
    )  # the network's first host
    assert backup.verdict.verdict == "blocked"
    (deny,) = analysis.shadowing or pytest.fail(f"{listed}\n{backup.verdict}")
    assert "4000" in deny.text and deny.position == 2, deny

    renderer = get_renderer(vendor)
    policy = derive_rules(site, PROFILE)
    plain = config_file(renderer.render(policy, site, PROFILE))
    adjusted = adjust_to(renderer, policy, site, PROFILE, analysis.existing, analysis.shadowing)
    adjusted_file = config_file(adjusted.rendered)
    assert adjusted_file != plain and f"line {deny.line}" in adjusted.rendered.steps[0].reason

    # The plain instructions alone: the customer's drop still refuses the backup first.
    plain_path = tmp_path / "plain"
    plain_path.write_text(plain)
    lab.load_rules(backend, plain_path)
    assert not _reaches(lab, t.HOST, 4401, timeout=BLOCKED_TIMEOUT), lab.ruleset(backend)

    # From the customer's ruleset again, with the adjusted instructions.
    lab.exec(t.FW, "nft", "flush", "ruleset")
    lab.exec(t.FW, *load, input=text)
    adjusted_path = tmp_path / "adjusted"
    adjusted_path.write_text(adjusted_file)
    lab.load_rules(backend, adjusted_path)
    ruleset = lab.ruleset(backend)
    assert _reaches(lab, t.HOST, 4401, timeout=OPEN_TIMEOUT), ruleset
    # The customer's other denies hold: the rest of the dropped range, other LAN hosts, other
    # ports the filter never allowed.
    assert not _reaches(lab, t.HOST, 4402, timeout=BLOCKED_TIMEOUT), ruleset
    assert not _reaches(lab, t.OTHER, 4401, timeout=BLOCKED_TIMEOUT), ruleset
    assert not _reaches(lab, t.HOST, 6881, timeout=BLOCKED_TIMEOUT), ruleset
    assert not _reaches(lab, t.HOST, 8080, timeout=BLOCKED_TIMEOUT), ruleset
    # And the analysis of what the kernel now lists agrees: allowed, decided by our lines.
    again = analyze(lab.exec(t.FW, *listing).stdout, vendor, site, PROFILE)
    assert again.results[0].verdict.verdict == "allowed", again.results[0].verdict
    assert not again.shadowing

    # The decommission plan of a version applied from the adjusted text (the portal records the
    # check when its adjusted steps are marked done): it removes our rules *and* their copies
    # above the drop, and the firewall is the customer's again, line for line, refusing the
    # backup as before.
    applied = AppliedCheck(vendor, 1, analysis.existing, analysis.shadowing)
    (removal,) = plan_removal(site, PROFILE, renderers=[renderer], applied=applied).documents
    removal_path = tmp_path / "removal"
    removal_path.write_text(renderer.plan_file(removal.steps))
    lab.exec(t.FW, *backend.plan_load, str(removal_path))
    after = lab.exec(t.FW, *listing).stdout
    assert normalised(vendor, after) == normalised(vendor, listed), after
    assert not _reaches(lab, t.HOST, 4401, timeout=BLOCKED_TIMEOUT), after
