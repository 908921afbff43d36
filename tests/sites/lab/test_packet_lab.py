"""The generated iptables and nftables rules, loaded into a real (namespaced) firewall on top of a
customer baseline that drops forwarded traffic, let exactly the guide's traffic through.

Topology and what each test proves: docs/packet-lab.md; the lab's fixtures: ``conftest.py``. Needs root (it creates network
namespaces); skipped, with the kernel's answer as the reason, where namespaces are refused.
"""

from __future__ import annotations

import secrets

import pytest

from tests.sites.lab import topology as t
from tests.sites.lab.firewall import PROFILE
from tests.sites.lab.probes import Listener, connect

BACKUP_PORT = 4401
MONITORING_PORT = 4403
OPEN_TIMEOUT = 5.0  # an allowed path answers in milliseconds; this only bounds a failure
BLOCKED_TIMEOUT = 1.0  # a dropped SYN or datagram: how long to wait before calling it blocked

# Monitoring forwards the monitoring ports and the outbound ports (guide rule 4).
FORWARDED = [(p.protocol, p.port) for p in (*PROFILE.monitoring_ports, *PROFILE.outbound_ports)]


def token() -> str:
    return secrets.token_hex(8)


# -- the control: the lab itself lets nothing through -----------------------------------------


def test_baseline_alone_blocks_the_backup(baseline_only):
    """Without the generated rules the same probe fails: what the tests below see is the rules."""
    fw = baseline_only
    with Listener(fw.ns(t.DC), "tcp", BACKUP_PORT) as listener:
        outcome = connect(
            fw.ns(t.HOST),
            "tcp",
            t.DATACENTER_ADDRESS,
            BACKUP_PORT,
            token(),
            timeout=BLOCKED_TIMEOUT,
        )
    assert not outcome.ok and not listener.observations, fw.explain(outcome, listener.observations)


# -- the generated rules -----------------------------------------------------------------------


def test_loading_keeps_the_customers_drop_policy(firewall):
    policy = firewall.lab.exec(t.FW, *firewall.backend.forward_policy).stdout
    assert firewall.backend.drop_policy_text in policy, firewall.explain()


def test_backup_host_reaches_the_datacenter_behind_the_public_address(firewall):
    """Guide rules 1 and 2: outbound TCP 4401 passes, masqueraded to the outside address."""
    sent = token()
    with Listener(firewall.ns(t.DC), "tcp", BACKUP_PORT) as listener:
        outcome = connect(
            firewall.ns(t.HOST),
            "tcp",
            t.DATACENTER_ADDRESS,
            BACKUP_PORT,
            sent,
            timeout=OPEN_TIMEOUT,
        )
    seen = listener.observations
    assert outcome.ok, firewall.explain(outcome, seen)
    assert seen == [{"peer": t.PUBLIC_ADDRESS, "token": sent}], firewall.explain(outcome, seen)


def test_other_lan_machine_cannot_reach_the_datacenter(firewall):
    """Guide rule 3: the static host's address is the only source allowed out on 4401."""
    with Listener(firewall.ns(t.DC), "tcp", BACKUP_PORT) as listener:
        outcome = connect(
            firewall.ns(t.OTHER),
            "tcp",
            t.DATACENTER_ADDRESS,
            BACKUP_PORT,
            token(),
            timeout=BLOCKED_TIMEOUT,
        )
    seen = listener.observations
    assert not outcome.ok and not seen, firewall.explain(outcome, seen)


def test_backup_host_reaches_only_the_datacenter(firewall):
    """Guide rule 1: 4401 is opened to the datacenter networks, not to any address."""
    with Listener(firewall.ns(t.MONITOR), "tcp", BACKUP_PORT) as listener:
        outcome = connect(
            firewall.ns(t.HOST),
            "tcp",
            t.MONITOR_ADDRESS,
            BACKUP_PORT,
            token(),
            timeout=BLOCKED_TIMEOUT,
        )
    seen = listener.observations
    assert not outcome.ok and not seen, firewall.explain(outcome, seen)


@pytest.mark.parametrize(("protocol", "port"), FORWARDED, ids=[f"{p}-{n}" for p, n in FORWARDED])
def test_monitoring_reaches_the_host_through_the_port_forward(firewall, protocol, port):
    """Guide rule 4: the public address forwards to the host, which sees the monitor's own
    address (destination NAT only), and the answer comes back from the public address."""
    sent = token()
    with Listener(firewall.ns(t.HOST), protocol, port) as listener:
        outcome = connect(
            firewall.ns(t.MONITOR),
            protocol,
            t.PUBLIC_ADDRESS,
            port,
            sent,
            source=t.MONITOR_ADDRESS,
            timeout=OPEN_TIMEOUT,
        )
    seen = listener.observations
    assert outcome.ok, firewall.explain(outcome, seen)
    assert outcome.reply_from == t.PUBLIC_ADDRESS, firewall.explain(outcome, seen)
    assert seen == [{"peer": t.MONITOR_ADDRESS, "token": sent}], firewall.explain(outcome, seen)


def forwarded_from(firewall, protocol: str, source: str, sent: str, timeout: float):
    """A connection from ``source`` (an address of ``monitor``) to the public address on the
    monitoring port: the probe's outcome and what the host's listener saw."""
    with Listener(firewall.ns(t.HOST), protocol, MONITORING_PORT) as listener:
        outcome = connect(
            firewall.ns(t.MONITOR),
            protocol,
            t.PUBLIC_ADDRESS,
            MONITORING_PORT,
            sent,
            source=source,
            timeout=timeout,
        )
    return outcome, listener.observations


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_monitoring_from_an_unlisted_address_is_kept_out(firewall, protocol):
    """Guide rule 4: only the monitoring sources are forwarded (same machine, other address)."""
    outcome, seen = forwarded_from(
        firewall, protocol, t.STRANGER_ADDRESS, token(), timeout=BLOCKED_TIMEOUT
    )
    assert not outcome.ok and not seen, firewall.explain(outcome, seen)


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_the_portals_check_gets_in_and_another_outside_source_still_does_not(firewall, protocol):
    """#13: monitoring is restricted to the site's sources, yet the portal's inbound check
    (PROBE_CHECK_SOURCE, in the lab profile) reaches the host on 4403, so a correct firewall
    passes its proof; an outside address that is neither stays out."""
    sent = token()
    outcome, seen = forwarded_from(
        firewall, protocol, t.CHECKER_ADDRESS, sent, timeout=OPEN_TIMEOUT
    )
    assert outcome.ok, firewall.explain(outcome, seen)
    assert seen == [{"peer": t.CHECKER_ADDRESS, "token": sent}], firewall.explain(outcome, seen)
    outcome, seen = forwarded_from(
        firewall, protocol, t.STRANGER_ADDRESS, token(), timeout=BLOCKED_TIMEOUT
    )
    assert not outcome.ok and not seen, firewall.explain(outcome, seen)


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_monitoring_cannot_bypass_the_port_forward(firewall, protocol):
    """The inbound accepts hold only for connections that came through the port-forward: a
    listed monitoring source addressing the host's private address directly stays outside."""
    with Listener(firewall.ns(t.HOST), protocol, MONITORING_PORT) as listener:
        outcome = connect(
            firewall.ns(t.MONITOR),
            protocol,
            t.HOST_ADDRESS,
            MONITORING_PORT,
            token(),
            source=t.MONITOR_ADDRESS,
            timeout=BLOCKED_TIMEOUT,
        )
    seen = listener.observations
    assert not outcome.ok and not seen, firewall.explain(outcome, seen)
