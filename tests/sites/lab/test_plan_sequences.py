"""Change and removal plans through a real firewall (issue 12's proof; docs/packet-lab.md, "Plan
sequences").

For each backend (iptables with the nf_tables and the legacy backend, nftables) and each of two
customer baselines — the forward policy drops; the policy accepts and a final rule drops — a case:

1. empties the firewall and loads the baseline;
2. loads version 1's complete file (monitoring from 198.51.100.7) as the instructions say;
3. loads the plan to version 2 exactly as ``manage.py instructions NEW --since OLD --format
   config`` prints it (``Renderer.plan_file``): for iptables a file for ``iptables-restore
   --noflush``, for nftables a shell script run with ``sh``;
4. sends real traffic for every flow either version could allow, in parallel, and checks that
   exactly version 2's flows pass; and that the firewall then holds the same rules as one that
   loaded version 2 directly.

The removal plan is checked the same way, and the ruleset after it must be the one before
version 1. One lab per backend (module scope), emptied between cases.

The probes are real sockets made inside the namespaces by threads of the test process
(``probes.ThreadListener``, ``probes.send``), all flows of a check at once. Every probe binds its
own source port, so each flow is a new connection-tracking entry: an entry
left by an earlier case (the lab is reused) can never decide a later probe.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from sites.plans import plan_change, plan_removal
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.lab import topology as t
from tests.sites.lab.firewall import PROFILE, lab_site, normalised, same_rules
from tests.sites.lab.probes import Outcome, ThreadListener, send

OPEN_TIMEOUT = 5.0  # an allowed path answers in milliseconds; this only bounds a failure
BLOCKED_TIMEOUT = 1.0  # a dropped SYN or datagram: how long to wait before calling it blocked
BASELINES = ("policy-drop", "final-drop")
INBOUND_PORTS = (("tcp", 4403), ("udp", 4403), ("tcp", 4401))
BACKUP_PORT = 4401
# Below the kernel's ephemeral range (32768-60999), so no other probe of the run uses them.
_source_ports = itertools.count(20000)


# -- versions of the lab site -------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """What one version of the site allows: the backup host's address, the monitoring sources
    (none: monitoring off), the datacenter networks, and the portal's check source, let in
    beside the monitoring sources (the profile's ``probe_check_source``)."""

    host: str = t.HOST_ADDRESS
    sources: tuple[str, ...] = (t.MONITOR_ADDRESS,)
    datacenters: tuple[str, ...] = (t.DATACENTER_NETWORK,)
    check: str = t.CHECKER_ADDRESS

    def lets_in(self, source: str) -> bool:
        return source in self.sources or (bool(self.sources) and source == self.check)

    def site(self, vendor: str):
        return lab_site(
            vendor,
            host_address=self.host,
            monitoring_enabled=bool(self.sources),
            monitoring_sources=[f"{source}/32" for source in self.sources],
        )

    @property
    def profile(self):
        networks = tuple(IPv4Network(network) for network in self.datacenters)
        return dataclasses.replace(
            PROFILE, datacenter_networks=networks, probe_check_source=IPv4Address(self.check)
        )


VERSION_1 = Version()
VERSIONS_2 = {
    "monitoring-source-changed": Version(sources=(t.STRANGER_ADDRESS,)),
    "host-moved": Version(host=t.OTHER_ADDRESS),
    "monitoring-turned-off": Version(sources=()),
    "datacenter-network-added": Version(
        datacenters=(t.DATACENTER_NETWORK, t.SECOND_DATACENTER_NETWORK)
    ),
    # PROBE_CHECK_SOURCE moved: the old check address is shut out, the new one gets in.
    "check-source-changed": Version(check=t.STRANGER_ADDRESS),
}
NOTHING = Version(host="", sources=(), datacenters=())  # after the removal plan


# -- the flows either version could allow ------------------------------------------------------

MACHINES = {t.HOST_ADDRESS: t.HOST, t.OTHER_ADDRESS: t.OTHER}


@dataclass(frozen=True)
class Flow:
    client: str  # the namespace role that sends
    source: str  # the address it sends from
    protocol: str
    address: str  # where it sends to
    port: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.address} {self.protocol}/{self.port}"

    @property
    def inbound(self) -> bool:
        return self.address == t.PUBLIC_ADDRESS

    def receiver(self, version: Version) -> str | None:
        """The role whose listener must get this flow under ``version``; None if blocked."""
        if self.inbound:
            return MACHINES[version.host] if version.lets_in(self.source) else None
        to_datacenter = any(
            IPv4Address(self.address) in IPv4Network(network) for network in version.datacenters
        )
        return t.DC if self.source == version.host and to_datacenter else None

    def seen_as(self) -> str:
        """The source address the receiver must see: the masquerade for outbound backups, the
        monitor's own address for the port-forward (destination NAT only)."""
        return self.source if self.inbound else t.PUBLIC_ADDRESS


FLOWS = [
    *(
        Flow(MACHINES[machine], machine, "tcp", datacenter, BACKUP_PORT)
        for machine in (t.HOST_ADDRESS, t.OTHER_ADDRESS)
        for datacenter in (t.DATACENTER_ADDRESS, t.SECOND_DATACENTER_ADDRESS)
    ),
    *(
        Flow(t.MONITOR, source, protocol, t.PUBLIC_ADDRESS, port)
        for source in (t.MONITOR_ADDRESS, t.STRANGER_ADDRESS, t.CHECKER_ADDRESS)
        for protocol, port in INBOUND_PORTS
    ),
]
LISTENERS = [
    (t.DC, "tcp", BACKUP_PORT),
    *(
        (machine, protocol, port)
        for machine in (t.HOST, t.OTHER)
        for protocol, port in INBOUND_PORTS
    ),
]


# -- the lab ------------------------------------------------------------------------------------


@dataclass
class SequenceLab:
    """A built lab whose ``fw`` runs ``backend``, and what the cases do with it."""

    lab: t.Lab
    backend: t.Backend
    files: Path
    loaded: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def renderer(self):
        return get_renderer(self.backend.vendor)

    def reset(self, baseline: str) -> None:
        """An empty firewall, then the customer's baseline."""
        self.loaded = []
        self.lab.exec(t.FW, *self.backend.reset, input=self.backend.reset_input)
        if baseline == "policy-drop":
            self.lab.exec(t.FW, *self.backend.baseline, input=self.backend.baseline_input)
        else:
            self.lab.exec(t.FW, *self.backend.final_drop, input=self.backend.final_drop_input)

    def load(self, name: str, text: str, loader: tuple[str, ...]) -> None:
        path = self.files / name
        path.write_text(text)
        self.loaded.append((name, text))
        self.lab.exec(t.FW, *loader, str(path))

    def load_version(self, version: Version) -> None:
        """The complete file of ``version``, loaded as its instructions say."""
        site = version.site(self.backend.vendor)
        rendered = self.renderer.render(derive_rules(site, version.profile), site, version.profile)
        self.load("complete", config_file(rendered), self.backend.load)

    def load_plan(self, plan, name: str = "plan") -> None:
        """A plan as ``--format config`` prints it, loaded as the plan says."""
        (document,) = plan.documents
        self.load(name, self.renderer.plan_file(document.steps), self.backend.plan_load)

    def ruleset(self) -> str:
        """The live ruleset without counters (see ``normalised``)."""
        return normalised(self.backend.vendor, self.lab.exec(t.FW, *self.backend.save).stdout)

    def explain(self) -> str:
        files = "".join(f"--- {name} ---\n{text}" for name, text in self.loaded)
        return (
            f"\n{files}--- live ruleset ({self.backend.name}) ---\n{self.lab.ruleset(self.backend)}"
        )

    def check_flows(self, version: Version) -> list[tuple[Flow, Outcome]]:
        """Send every flow at once and assert exactly ``version``'s arrive, each where it must,
        seen from the right address, and answered."""
        tokens = {flow: secrets.token_hex(8) for flow in FLOWS}
        ports = {flow: next(_source_ports) for flow in FLOWS}
        listeners = [
            ThreadListener(self.lab.ns(role), proto, port) for role, proto, port in LISTENERS
        ]
        with ExitStack() as stack, ThreadPoolExecutor(max_workers=len(FLOWS)) as pool:
            for listener in listeners:
                stack.enter_context(listener)
            outcomes = list(
                pool.map(
                    lambda flow: send(
                        self.lab.ns(flow.client),
                        flow.protocol,
                        flow.address,
                        flow.port,
                        tokens[flow],
                        source=flow.source,
                        source_port=ports[flow],
                        timeout=OPEN_TIMEOUT if flow.receiver(version) else BLOCKED_TIMEOUT,
                    ),
                    FLOWS,
                )
            )
        seen: dict[str, list[tuple[str, str]]] = {}
        for (role, _, _), listener in zip(LISTENERS, listeners, strict=True):
            for observation in listener.observations:
                seen.setdefault(observation["token"], []).append((role, observation["peer"]))
        wrong = []
        for flow, outcome in zip(FLOWS, outcomes, strict=True):
            receiver, arrived = flow.receiver(version), seen.get(tokens[flow], [])
            if receiver is None:
                good = not outcome.ok and not arrived
            else:
                good = outcome.ok and arrived == [(receiver, flow.seen_as())]
                good = good and (not flow.inbound or outcome.reply_from == t.PUBLIC_ADDRESS)
            if not good:
                wrong.append(
                    f"{flow}: expected {'at ' + receiver if receiver else 'blocked'}, "
                    f"client saw {outcome}, listeners saw {arrived}"
                )
        assert not wrong, "\n".join(wrong) + self.explain()
        return list(zip(FLOWS, outcomes, strict=True))


@pytest.fixture(scope="module", params=list(t.BACKENDS))
def lab(request, namespaces, tmp_path_factory):
    """One lab per backend, for every case of this module."""
    backend = t.BACKENDS[request.param]
    built = t.Lab()
    try:
        built.build()
        sequence = SequenceLab(built, backend, tmp_path_factory.mktemp(request.param))
        try:
            sequence.reset("policy-drop")
        except t.LabError as error:
            if backend.name == "iptables-legacy":
                pytest.skip(f"packet lab: the iptables legacy backend is unavailable here: {error}")
            raise
        yield sequence
    finally:
        built.destroy()


# -- the cases ----------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", BASELINES)
def test_baseline_alone_lets_nothing_through(lab, baseline):
    """The control: what the cases below see passing is the loaded rules' doing."""
    lab.reset(baseline)
    lab.check_flows(NOTHING)


@pytest.mark.parametrize("baseline", BASELINES)
def test_version_1_lets_exactly_its_flows_through(lab, baseline):
    """The starting point of every sequence: the backup host out, monitoring in from .7 only."""
    lab.reset(baseline)
    lab.load_version(VERSION_1)
    lab.check_flows(VERSION_1)


@pytest.mark.parametrize("change", list(VERSIONS_2))
@pytest.mark.parametrize("baseline", BASELINES)
def test_change_plan_lets_exactly_version_2_through(lab, baseline, change):
    version_2 = VERSIONS_2[change]
    vendor = lab.backend.vendor
    lab.reset(baseline)
    lab.load_version(VERSION_1)
    plan = plan_change(
        VERSION_1.site(vendor),
        VERSION_1.profile,
        version_2.site(vendor),
        version_2.profile,
        renderers=[lab.renderer],
    )
    lab.load_plan(plan)
    after_plan = lab.ruleset()
    lab.check_flows(version_2)

    if vendor == "nftables":
        # The script is idempotent: a second run adds nothing, deletes nothing, does not fail.
        lab.load_plan(plan, "plan, again")
        assert lab.ruleset() == after_plan, lab.explain()

    # The plan leads to the same rules as loading version 2 on the baseline directly.
    lab.reset(baseline)
    lab.load_version(version_2)
    assert same_rules(after_plan) == same_rules(lab.ruleset()), (
        f"\n--- after the plan ---\n{after_plan}{lab.explain()}"
    )


@pytest.mark.parametrize("baseline", BASELINES)
def test_removal_plan_restores_the_ruleset_and_closes_the_forward(lab, baseline):
    vendor = lab.backend.vendor
    lab.reset(baseline)
    before = lab.ruleset()
    lab.load_version(VERSION_1)
    assert lab.ruleset() != before
    lab.load_plan(plan_removal(VERSION_1.site(vendor), VERSION_1.profile, renderers=[lab.renderer]))
    assert lab.ruleset() == before, f"\n--- before version 1 ---\n{before}{lab.explain()}"
    outcomes = dict(lab.check_flows(NOTHING))
    forward = Flow(t.MONITOR, t.MONITOR_ADDRESS, "tcp", t.PUBLIC_ADDRESS, 4403)
    assert outcomes[forward].error in ("refused", "timeout"), outcomes[forward]
    if vendor == "nftables":
        lab.load_plan(
            plan_removal(VERSION_1.site(vendor), VERSION_1.profile, renderers=[lab.renderer]),
            "removal, again",
        )
        assert lab.ruleset() == before, lab.explain()
