"""The packet lab's network: seven network namespaces joined by veth pairs (docs/packet-lab.md).

::

    host  192.168.1.10 ─┐                                             ┌─ dc       203.0.113.10
                        │                                             │           198.18.0.10
                        ├─ lan ── fw-inside [ fw ] fw-outside ── wan ─┤
                        │         192.168.1.1/24   192.0.2.1/24       │
    other 192.168.1.20 ─┘                                             └─ monitor  198.51.100.7
                                                                                  198.51.100.99

``dc``'s second address, 198.18.0.10 (RFC 2544's benchmarking range, never routed), stands for a
datacenter network the provider adds later (the plan sequences of ``test_plan_sequences.py``).

``lan`` and ``wan`` are switches: a namespace holding only a bridge, with no addresses and no
rules. Every veth is created directly inside its namespaces (``ip link add … netns …``), so nothing
ever appears in the machine's own namespace, and deleting the namespaces deletes the veths.

The outside is one Ethernet segment with on-link routes instead of an ISP router: ``fw`` reaches
203.0.113.0/24 and 198.51.100.0/24 on ``fw-outside``; ``dc`` and ``monitor`` reach 192.0.2.0/24
on-link and, deliberately, the LAN 192.168.1.0/24 via 192.0.2.1. With that return route a packet
the firewall wrongly forwarded would get an answer, so a blocked probe is blocked by the rules, not
by the lab's routing, and a datacenter that sees 192.0.2.1 saw the masquerade, not a routing quirk.

Namespace names are ``fwlab-<pid>-<random>-<role>``: unique per run, and :func:`sweep_leftovers`
can tell a dead run's leftovers (pid gone) from a parallel run's (pid alive).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PREFIX = "fwlab-"

# Roles (the last part of each namespace name).
HOST, OTHER, FW, DC, MONITOR = "host", "other", "fw", "dc", "monitor"
LAN, WAN = "lan", "wan"  # the two switches
ROLES = (LAN, WAN, HOST, OTHER, FW, DC, MONITOR)

# Addresses: documentation and private ranges only, all inside the namespaces.
LAN_NETWORK = "192.168.1.0/24"
LAN_GATEWAY = "192.168.1.1"
HOST_ADDRESS = "192.168.1.10"
OTHER_ADDRESS = "192.168.1.20"
PUBLIC_NETWORK = "192.0.2.0/24"
PUBLIC_ADDRESS = "192.0.2.1"
DATACENTER_NETWORK = "203.0.113.0/24"
DATACENTER_ADDRESS = "203.0.113.10"
# A second datacenter network, on the same dc machine: the one the provider adds later.
SECOND_DATACENTER_NETWORK = "198.18.0.0/24"
SECOND_DATACENTER_ADDRESS = "198.18.0.10"
MONITOR_NETWORK = "198.51.100.0/24"
MONITOR_ADDRESS = "198.51.100.7"  # the site's monitoring source
STRANGER_ADDRESS = "198.51.100.99"  # same machine, same segment, not a monitoring source
CHECKER_ADDRESS = "198.51.100.200"  # the portal's inbound checks (PROBE_CHECK_SOURCE), same machine

# The firewall's interface names: what the site file says (not the renderers' lan0/wan0 default).
FW_INSIDE = "fw-inside"
FW_OUTSIDE = "fw-outside"
LEAF_INTERFACE = "eth0"  # the single interface of host, other, dc and monitor
BRIDGE = "br0"

COMMAND_TIMEOUT = 15  # seconds; every ip/iptables/nft call is local and takes milliseconds


class LabError(RuntimeError):
    """A lab command failed; the message carries the command and its output."""


def run(
    args: list[str], *, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, input=input, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    if check and result.returncode != 0:
        raise LabError(
            f"`{' '.join(args)}` exited {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result


def namespaces_unavailable() -> str | None:
    """Why this machine cannot run the lab (``None`` if it can): creates and deletes a namespace."""
    if shutil.which("ip") is None:
        raise LabError("`ip` (iproute2) is not installed: apt-get install iproute2")
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}-check"
    result = run(["ip", "netns", "add", name], check=False)
    run(["ip", "netns", "delete", name], check=False)  # also after a half-done add
    if result.returncode != 0:
        return (
            "cannot create network namespaces here (needs root and a kernel that allows them; "
            f"`ip netns add` said: {result.stderr.strip()})"
        )
    return None


def lab_namespaces() -> list[str]:
    """Every namespace on the machine whose name has the lab's prefix."""
    if shutil.which("ip") is None:
        return []
    listing = run(["ip", "netns", "list"], check=False).stdout
    names = (line.split()[0] for line in listing.splitlines() if line.strip())
    return [name for name in names if name.startswith(PREFIX)]


def sweep_leftovers(*, include_own: bool = False) -> list[str]:
    """Delete lab namespaces left by runs that died (their pid is gone); with ``include_own``,
    this process's as well. Namespaces of a parallel run that is still alive are left alone."""
    removed = []
    for name in lab_namespaces():
        try:
            pid = int(name[len(PREFIX) :].split("-")[0])
        except ValueError:
            continue
        if (pid == os.getpid() and include_own) or (pid != os.getpid() and not _alive(pid)):
            run(["ip", "netns", "delete", name], check=False)
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Backend:
    """How one firewall flavour gets the customer baseline and then the generated file."""

    name: str  # the test id
    vendor: str  # the renderer's slug
    baseline: tuple[str, ...]  # command that installs "forwarded traffic is dropped by default"
    baseline_input: str | None  # its stdin
    load: tuple[str, ...]  # the loader; the generated file's path is appended
    listing: tuple[str, ...]  # dumps the loaded ruleset, for failure messages
    forward_policy: tuple[str, ...]  # shows the forward chain's policy
    drop_policy_text: str  # what ``forward_policy`` prints while the policy is still drop
    # The plan sequences (test_plan_sequences.py): the other customer baseline, "the policy
    # accepts, a final rule drops"; how to empty the firewall between cases; how to load a plan;
    # the ruleset without counters.
    final_drop: tuple[str, ...] = ()
    final_drop_input: str | None = None
    reset: tuple[str, ...] = ()
    reset_input: str | None = None
    plan_load: tuple[str, ...] = ()
    save: tuple[str, ...] = ()


NFT_BASELINE = """\
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
"""
NFT_FINAL_DROP = """\
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		drop
	}
}
"""
# Empties the filter and nat tables of the legacy backend: flushes them, deletes their own chains
# and sets every policy back to ACCEPT (restore without --noflush replaces the tables it names).
IPTABLES_EMPTY = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
"""


def _iptables(flavour: str) -> Backend:
    return Backend(
        name=f"iptables-{flavour}",
        vendor="iptables",
        baseline=(f"iptables-{flavour}", "-P", "FORWARD", "DROP"),
        baseline_input=None,
        load=(f"iptables-{flavour}-restore", "--noflush"),
        listing=(f"iptables-{flavour}-save",),
        forward_policy=(f"iptables-{flavour}", "-S", "FORWARD"),
        drop_policy_text="-P FORWARD DROP",
        final_drop=(f"iptables-{flavour}", "-A", "FORWARD", "-j", "DROP"),
        # The nf_tables backend's tables are nftables tables: flushing the ruleset removes them.
        reset=("nft", "flush", "ruleset") if flavour == "nft" else (f"iptables-{flavour}-restore",),
        reset_input=None if flavour == "nft" else IPTABLES_EMPTY,
        plan_load=(f"iptables-{flavour}-restore", "--noflush"),
        save=(f"iptables-{flavour}-save",),
    )


BACKENDS = {
    b.name: b
    for b in (
        _iptables("nft"),
        _iptables("legacy"),
        Backend(
            name="nftables",
            vendor="nftables",
            baseline=("nft", "-f", "-"),
            baseline_input=NFT_BASELINE,
            load=("nft", "-f"),
            listing=("nft", "list", "ruleset"),
            forward_policy=("nft", "list", "chain", "inet", "filter", "forward"),
            drop_policy_text="policy drop;",
            final_drop=("nft", "-f", "-"),
            final_drop_input=NFT_FINAL_DROP,
            reset=("nft", "flush", "ruleset"),
            plan_load=("sh",),  # a plan is a POSIX shell script (sites/vendors/nftables.py)
            save=("nft", "-s", "list", "ruleset"),  # -s: stateless, without counters
        ),
    )
}


class Lab:
    """One instance of the topology. ``build()`` then ``destroy()`` (always, in a ``finally``)."""

    def __init__(self) -> None:
        self.tag = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.created: list[str] = []

    def ns(self, role: str) -> str:
        """The namespace name of ``role``."""
        return f"{self.tag}-{role}"

    def ip(self, role: str, *args: str) -> None:
        run(["ip", "-n", self.ns(role), *args])

    def exec(self, role: str, *command: str, input: str | None = None, check: bool = True):
        return run(["ip", "netns", "exec", self.ns(role), *command], input=input, check=check)

    # -- building ------------------------------------------------------------------------------

    def build(self) -> None:
        for role in ROLES:
            run(["ip", "netns", "add", self.ns(role)])
            self.created.append(self.ns(role))
            self.ip(role, "link", "set", "lo", "up")
        for switch in (LAN, WAN):
            self.ip(switch, "link", "add", BRIDGE, "type", "bridge")
            self.ip(switch, "link", "set", BRIDGE, "up")

        self._plug(HOST, LEAF_INTERFACE, LAN, f"{HOST_ADDRESS}/24")
        self._plug(OTHER, LEAF_INTERFACE, LAN, f"{OTHER_ADDRESS}/24")
        self._plug(FW, FW_INSIDE, LAN, f"{LAN_GATEWAY}/24")
        self._plug(FW, FW_OUTSIDE, WAN, f"{PUBLIC_ADDRESS}/24")
        self._plug(DC, LEAF_INTERFACE, WAN, f"{DATACENTER_ADDRESS}/24")
        self._plug(MONITOR, LEAF_INTERFACE, WAN, f"{MONITOR_ADDRESS}/24")
        self.ip(MONITOR, "addr", "add", f"{STRANGER_ADDRESS}/24", "dev", LEAF_INTERFACE)
        self.ip(MONITOR, "addr", "add", f"{CHECKER_ADDRESS}/24", "dev", LEAF_INTERFACE)
        self.ip(DC, "addr", "add", f"{SECOND_DATACENTER_ADDRESS}/24", "dev", LEAF_INTERFACE)

        for lan_machine in (HOST, OTHER):
            self.ip(lan_machine, "route", "add", "default", "via", LAN_GATEWAY)
        for network in (DATACENTER_NETWORK, SECOND_DATACENTER_NETWORK, MONITOR_NETWORK):
            self.ip(FW, "route", "add", network, "dev", FW_OUTSIDE)
        for outside in (DC, MONITOR):
            self.ip(outside, "route", "add", PUBLIC_NETWORK, "dev", LEAF_INTERFACE)
            self.ip(outside, "route", "add", LAN_NETWORK, "via", PUBLIC_ADDRESS)
        self.exec(FW, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")

    def _plug(self, role: str, interface: str, switch: str, address: str) -> None:
        """A veth from ``role`` (named ``interface``) to a port of ``switch``'s bridge."""
        port = f"to-{role}"  # the two fw ports are in different switches: no clash
        self.ip(
            role,
            "link",
            "add",
            interface,
            "type",
            "veth",
            "peer",
            "name",
            port,
            "netns",
            self.ns(switch),
        )
        self.ip(switch, "link", "set", port, "master", BRIDGE, "up")
        self.ip(role, "addr", "add", address, "dev", interface)
        self.ip(role, "link", "set", interface, "up")

    def destroy(self) -> None:
        """Delete every namespace this lab created (their veths go with them). Never raises."""
        for name in reversed(self.created):
            run(["ip", "netns", "delete", name], check=False)
        self.created.clear()

    # -- the firewall --------------------------------------------------------------------------

    def load_baseline(self, backend: Backend) -> None:
        """The customer's existing firewall: forwarded traffic is dropped by default."""
        self.exec(FW, *backend.baseline, input=backend.baseline_input)

    def load_rules(self, backend: Backend, path: Path) -> None:
        """Load the generated file the way the instructions say."""
        self.exec(FW, *backend.load, str(path))

    def ruleset(self, backend: Backend) -> str:
        """The firewall's current ruleset, as its own tool prints it."""
        result = self.exec(FW, *backend.listing, check=False)
        return result.stdout or result.stderr
