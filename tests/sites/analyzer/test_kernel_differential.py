"""The analyzer against the kernel: random rulesets of realistic shape are loaded into the packet
lab's firewall namespace, real TCP connections and UDP datagrams are sent for a fixed set of
flows, and the analyzer's answer must be what the kernel did, for every flow of every ruleset.

The analyzer reads what the kernel lists after loading (``iptables-save``, ``nft list ruleset``
and ``nft -j list ruleset``), so the parsers are tested on real listings too. "What the kernel
did" is: did the connection work, which listener got it (the translated destination), and which
source address that listener saw (the translated source).

Needs root and network namespaces, like the packet lab (docs/packet-lab.md); skipped where they
are refused. ANALYZER_DIFFERENTIAL_RULESETS sets how many rulesets per backend (default 100).
"""

from __future__ import annotations

import json
import os
import queue
import random
import secrets
import select
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import Flow
from sites.analyzer.iptables import parse_iptables
from sites.analyzer.nftables import parse_nftables
from tests.sites.lab import probes
from tests.sites.lab import topology as t
from tests.sites.lab.firewall import lab_site

RULESETS = int(os.environ.get("ANALYZER_DIFFERENTIAL_RULESETS", "100"))
SEED = 4401
BLOCKED_TIMEOUT = 0.4  # a lab answer takes milliseconds; a mismatch is re-probed with CONFIRM
CONFIRM_TIMEOUT = 3.0
LISTEN_SECONDS = 1800
CLIENT_SCRIPT = str(Path(__file__).with_name("lab_client.py"))

INSIDE, OUTSIDE = t.FW_INSIDE, t.FW_OUTSIDE
HOST, OTHER, DC, MONITOR, STRANGER, PUBLIC = (
    t.HOST_ADDRESS,
    t.OTHER_ADDRESS,
    t.DATACENTER_ADDRESS,
    t.MONITOR_ADDRESS,
    t.STRANGER_ADDRESS,
    t.PUBLIC_ADDRESS,
)


@dataclass(frozen=True)
class LabFlow:
    namespace: str  # the role sending it
    flow: Flow


FLOWS = [
    LabFlow(t.HOST, Flow.parse(f"tcp:{HOST}->{DC}:4401")),
    LabFlow(t.OTHER, Flow.parse(f"tcp:{OTHER}->{DC}:4401")),
    LabFlow(t.MONITOR, Flow.parse(f"tcp:{MONITOR}->{PUBLIC}:4403")),
    LabFlow(t.MONITOR, Flow.parse(f"udp:{MONITOR}->{PUBLIC}:4403")),
    LabFlow(t.MONITOR, Flow.parse(f"tcp:{MONITOR}->{PUBLIC}:4401")),
    LabFlow(t.MONITOR, Flow.parse(f"tcp:{STRANGER}->{PUBLIC}:4403")),
]
# Where something listens: (protocol, address, port) -> namespace role.
LISTENERS = {
    ("tcp", DC, 4401): t.DC,
    ("tcp", HOST, 4403): t.HOST,
    ("udp", HOST, 4403): t.HOST,
    ("tcp", HOST, 4401): t.HOST,
}


# -- random rulesets -----------------------------------------------------------------------------


@dataclass
class R:
    """One abstract filter rule, rendered to both syntaxes below."""

    action: str  # accept, drop, reject, return, log, jump:CHAIN, goto:CHAIN
    iif: str = ""  # an interface, "fw-+" (both), or "!name"
    oif: str = ""
    src: str = ""  # a network, "!" prefix negates
    dst: str = ""
    proto: str = ""
    ports: list[tuple[int, int]] = field(default_factory=list)
    sports: list[tuple[int, int]] = field(default_factory=list)  # a single range or none
    state: list[str] = field(default_factory=list)  # conntrack states
    dnat: bool = False  # ctstate DNAT / ct status dnat


@dataclass
class Nat:
    kind: str  # dnat, masquerade, snat
    proto: str = ""
    port: int = 0
    to: str = ""  # ip or ip:port
    iif: str = ""
    oif: str = ""
    src: str = ""
    dst: str = ""


@dataclass
class Ruleset:
    policy: str
    forward: list[R]
    chains: dict[str, list[R]]
    prerouting: list[Nat]
    postrouting: list[Nat]
    extra: list[R]  # nftables only: a second base chain at the forward hook
    extra_priority: int = 10
    # Filter rules around the NAT points: (hook, rule). iptables puts them in the mangle table
    # (priority -150, before both translations); nftables at the priorities below.
    edge: list[tuple[str, R]] = field(default_factory=list)
    edge_priority: dict[str, int] = field(default_factory=dict)


# Drops that match a packet only before, or only after, a translation (or its undoing).
EDGE_RULES = [
    ("prerouting", R("drop", dst=f"{PUBLIC}/32", proto="udp", ports=[(4403, 4403)])),
    ("prerouting", R("drop", dst=f"{HOST}/32", proto="tcp", ports=[(4403, 4403)])),
    ("prerouting", R("drop", dst=f"{PUBLIC}/32", proto="tcp", sports=[(4401, 4401)])),
    ("prerouting", R("drop", dst=f"{HOST}/32", proto="tcp", sports=[(4401, 4401)])),
    ("prerouting", R("drop", proto="udp", ports=[(4403, 4403)], dnat=True)),
    ("postrouting", R("drop", src=f"{PUBLIC}/32", proto="tcp", ports=[(4401, 4401)])),
    ("postrouting", R("drop", src=f"{HOST}/32", proto="tcp", sports=[(4403, 4403)])),
    ("postrouting", R("drop", src=f"{HOST}/32", proto="udp", sports=[(4403, 4403)])),
    # Before conntrack (the raw table): every packet is "invalid", none has a NAT status.
    ("raw", R("drop", proto="udp", ports=[(4403, 4403)], state=["invalid"])),
    ("raw", R("drop", proto="tcp", ports=[(4401, 4401)], dst=f"{PUBLIC}/32")),
    ("raw", R("drop", proto="tcp", ports=[(4403, 4403)], state=["new"])),
]


def random_ruleset(rng: random.Random, *, nft: bool) -> Ruleset:
    pick = rng.choice
    lan_sources = [f"{HOST}/32", f"{OTHER}/32", t.LAN_NETWORK, f"!{OTHER}/32", ""]
    out_ports = [[(4401, 4401)], [(4400, 4402)], [(4401, 4401), (4403, 4403)], []]
    in_ports = [[(4403, 4403)], [(4401, 4401)], [(4403, 4410)], [(4401, 4401), (4403, 4403)]]

    def allow_out() -> R:
        return R(
            pick(["accept", "accept", "drop", "reject"]),
            iif=pick([INSIDE, INSIDE, "fw-+", ""]),
            oif=pick([OUTSIDE, OUTSIDE, f"!{INSIDE}", ""]),
            src=pick(lan_sources),
            dst=pick([t.DATACENTER_NETWORK, f"{DC}/32", ""]),
            proto="tcp",
            ports=pick(out_ports),
            state=pick([[], [], ["new"]]),
        )

    def allow_in() -> R:
        proto = pick(["tcp", "udp", ""])
        return R(
            pick(["accept", "accept", "accept", "drop"]),
            iif=pick([OUTSIDE, OUTSIDE, ""]),
            oif=pick([INSIDE, ""]),
            src=pick([f"{MONITOR}/32", t.MONITOR_NETWORK, f"!{STRANGER}/32", ""]),
            dst=pick([f"{HOST}/32", f"{HOST}/32", f"{PUBLIC}/32", t.LAN_NETWORK]),
            proto=proto,
            ports=pick(in_ports) if proto else [],
            dnat=rng.random() < 0.5,
        )

    def stateful() -> R:
        return R("accept", state=pick([["established", "related"], ["established"]]))

    def blocker() -> R:
        return pick(
            [
                R(pick(["drop", "reject"]), src=f"{OTHER}/32"),
                R("drop", src=f"{STRANGER}/32"),
                R(pick(["drop", "reject"]), proto="tcp", ports=[(4401, 4401)], iif=OUTSIDE),
                R("drop", proto="udp", ports=[(4403, 4403)]),
                R("drop", state=["invalid"]),
                R("log", proto="tcp"),
            ]
        )

    templates = [allow_out, allow_out, allow_in, allow_in, allow_in, stateful, blocker]
    forward = [pick(templates)() for _ in range(rng.randint(2, 8))]
    if rng.random() < 0.7:
        forward.insert(rng.randint(0, min(2, len(forward))), stateful())
    chains: dict[str, list[R]] = {}
    if rng.random() < 0.5:
        body = [pick([allow_out, blocker, stateful])() for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.5:
            body.insert(rng.randint(0, len(body)), R("return", src=pick(lan_sources[:3])))
        if rng.random() < 0.3:
            body.append(R("drop"))
        chains["lan_out"] = body
        jump = R(f"{pick(['jump', 'jump', 'goto'])}:lan_out", iif=pick([INSIDE, ""]))
        forward.insert(rng.randint(0, len(forward)), jump)

    prerouting = []
    for proto, port in (("tcp", 4403), ("udp", 4403), ("tcp", 4401)):
        choice = rng.random()
        if choice < 0.2:
            continue
        to = f"{HOST}:{port}"
        if choice > 0.85:
            to = pick([f"{HOST}:4401", f"{HOST}:4409", f"{OTHER}:{port}", HOST])
        prerouting.append(
            Nat(
                "dnat",
                proto=proto,
                port=port,
                to=to,
                iif=pick([OUTSIDE, OUTSIDE, ""]),
                src=pick([f"{MONITOR}/32", f"{MONITOR}/32", t.MONITOR_NETWORK, ""]),
                dst=pick([f"{PUBLIC}/32", f"{PUBLIC}/32", ""]),
            )
        )
    rng.shuffle(prerouting)
    postrouting = [
        pick(
            [
                Nat("masquerade", oif=OUTSIDE),
                Nat("masquerade", oif=OUTSIDE, src=f"{HOST}/32"),
                Nat("masquerade"),
                Nat("snat", oif=OUTSIDE, to=PUBLIC),
                Nat("masquerade", oif=OUTSIDE, proto="udp", port=4401),
            ]
        )
        for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    extra: list[R] = []
    if nft and rng.random() < 0.3:
        extra = [pick([blocker, allow_out, stateful])() for _ in range(rng.randint(1, 2))]
    edge: list[tuple[str, R]] = []
    if rng.random() < 0.35:
        edge = [pick(EDGE_RULES) for _ in range(rng.randint(1, 2))]
    return Ruleset(
        edge=edge,
        edge_priority={"prerouting": pick([-200, -50]), "postrouting": pick([50, 150])},
        policy=pick(["accept", "drop", "drop", "drop"]),
        forward=forward,
        chains=chains,
        prerouting=prerouting,
        postrouting=postrouting,
        extra=extra,
        extra_priority=pick([-10, 10]),
    )


# -- rendering -----------------------------------------------------------------------------------


def _negated(value: str) -> tuple[str, str]:
    return ("!", value[1:]) if value.startswith("!") else ("", value)


def iptables_rule(chain: str, rule: R) -> str:
    words = [f"-A {chain}"]
    for option, value in (("-i", rule.iif), ("-o", rule.oif), ("-s", rule.src), ("-d", rule.dst)):
        if value:
            bang, name = _negated(value)
            words.append(f"{bang + ' ' if bang else ''}{option} {name}")
    if rule.proto:
        words.append(f"-p {rule.proto}")
    if len(rule.ports) > 1:
        listed = ",".join(f"{a}" if a == b else f"{a}:{b}" for a, b in rule.ports)
        words.append(f"-m multiport --dports {listed}")
    elif rule.ports or rule.sports:
        words.append(f"-m {rule.proto}")
        for option, ports in (("--sport", rule.sports), ("--dport", rule.ports)):
            if ports:
                low, high = ports[0]
                words.append(f"{option} {low}" + (f":{high}" if high != low else ""))
    if rule.state:
        words.append("-m conntrack --ctstate " + ",".join(s.upper() for s in rule.state))
    if rule.dnat:
        words.append("-m conntrack --ctstate DNAT")
    kind, _, target = rule.action.partition(":")
    words.append(
        {"jump": f"-j {target}", "goto": f"-g {target}", "log": '-j LOG --log-prefix "lab "'}.get(
            kind, f"-j {kind.upper()}"
        )
    )
    return " ".join(words)


def iptables_nat(chain: str, nat: Nat) -> str:
    words = [f"-A {chain}"]
    for option, value in (("-i", nat.iif), ("-o", nat.oif), ("-s", nat.src), ("-d", nat.dst)):
        if value:
            words.append(f"{option} {value}")
    if nat.proto:
        words.append(f"-p {nat.proto} -m {nat.proto} --dport {nat.port}")
    target = {
        "dnat": f"-j DNAT --to-destination {nat.to}",
        "snat": f"-j SNAT --to-source {nat.to}",
        "masquerade": "-j MASQUERADE",
    }[nat.kind]
    return " ".join([*words, target])


def render_iptables(rules: Ruleset) -> str:
    lines = ["*filter", ":INPUT ACCEPT [0:0]", f":FORWARD {rules.policy.upper()} [0:0]"]
    lines += [":OUTPUT ACCEPT [0:0]", *(f":{name} - [0:0]" for name in rules.chains)]
    lines += [iptables_rule("FORWARD", r) for r in rules.forward]
    for name, body in rules.chains.items():
        lines += [iptables_rule(name, r) for r in body]
    lines += ["COMMIT", "*raw", ":PREROUTING ACCEPT [0:0]"]
    lines += [iptables_rule("PREROUTING", r) for hook, r in rules.edge if hook == "raw"]
    lines += ["COMMIT", "*mangle", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    lines += [iptables_rule(hook.upper(), r) for hook, r in rules.edge if hook != "raw"]
    lines += ["COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]"]
    lines += [":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    lines += [iptables_nat("PREROUTING", n) for n in rules.prerouting]
    lines += [iptables_nat("POSTROUTING", n) for n in rules.postrouting]
    return "\n".join([*lines, "COMMIT", ""])


def _nft_interface(key: str, value: str) -> str:
    bang, name = _negated(value)
    name = name.replace("+", "*")
    return f'{key} {"!= " if bang else ""}"{name}"'


def _nft_address(key: str, value: str) -> str:
    bang, network = _negated(value)
    return f"ip {key} {'!= ' if bang else ''}{network.removesuffix('/32')}"


def nft_rule(rule: R) -> str:
    words = []
    if rule.iif:
        words.append(_nft_interface("iifname", rule.iif))
    if rule.oif:
        words.append(_nft_interface("oifname", rule.oif))
    if rule.src:
        words.append(_nft_address("saddr", rule.src))
    if rule.dst:
        words.append(_nft_address("daddr", rule.dst))
    if rule.proto and rule.sports:
        low, high = rule.sports[0]
        words.append(f"{rule.proto} sport {low}" + (f"-{high}" if high != low else ""))
    if rule.proto and rule.ports:
        listed = [f"{a}" if a == b else f"{a}-{b}" for a, b in rule.ports]
        ports = listed[0] if len(listed) == 1 else "{ " + ", ".join(listed) + " }"
        words.append(f"{rule.proto} dport {ports}")
    elif rule.proto and not rule.sports:
        words.append(f"meta l4proto {rule.proto}")
    if rule.state:
        words.append("ct state " + ",".join(rule.state))
    if rule.dnat:
        words.append("ct status dnat")
    kind, _, target = rule.action.partition(":")
    words.append({"log": 'log prefix "lab "'}.get(kind, f"{kind} {target}".strip()))
    return " ".join(words)


def nft_nat(nat: Nat) -> str:
    words = []
    if nat.iif:
        words.append(f'iifname "{nat.iif}"')
    if nat.oif:
        words.append(f'oifname "{nat.oif}"')
    if nat.src:
        words.append(_nft_address("saddr", nat.src))
    if nat.dst:
        words.append(_nft_address("daddr", nat.dst))
    if nat.proto:
        words.append(f"{nat.proto} dport {nat.port}")
    words.append(
        {"dnat": f"dnat to {nat.to}", "snat": f"snat to {nat.to}"}.get(nat.kind, "masquerade")
    )
    return " ".join(words)


def render_nft(rules: Ruleset) -> str:
    lines = ["flush ruleset", "table inet filter {"]
    lines += [
        "\tchain forward {",
        f"\t\ttype filter hook forward priority filter; policy {rules.policy};",
    ]
    lines += [f"\t\t{nft_rule(r)}" for r in rules.forward] + ["\t}"]
    for name, body in rules.chains.items():
        lines += [f"\tchain {name} {{", *(f"\t\t{nft_rule(r)}" for r in body), "\t}"]
    lines += ["}", "table ip nat {", "\tchain prerouting {"]
    lines += ["\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    lines += [f"\t\t{nft_nat(n)}" for n in rules.prerouting] + ["\t}", "\tchain postrouting {"]
    lines += ["\t\ttype nat hook postrouting priority srcnat; policy accept;"]
    lines += [f"\t\t{nft_nat(n)}" for n in rules.postrouting] + ["\t}", "}"]
    if rules.edge:
        lines += ["table inet edge {"]
        for hook in ("raw", "prerouting", "postrouting"):
            base = "prerouting" if hook == "raw" else hook
            lines += [f"\tchain {hook} {{", f"\t\ttype filter hook {base} priority "]
            lines[-1] += f"{rules.edge_priority.get(hook, -300)}; policy accept;"
            lines += [f"\t\t{nft_rule(r)}" for h, r in rules.edge if h == hook] + ["\t}"]
        lines += ["}"]
    if rules.extra:
        lines += ["table ip extra {", "\tchain forward {"]
        lines += [f"\t\ttype filter hook forward priority {rules.extra_priority}; policy accept;"]
        lines += [f"\t\t{nft_rule(r)}" for r in rules.extra] + ["\t}", "}"]
    return "\n".join([*lines, ""])


# -- the kernel's answer -------------------------------------------------------------------------


class Listeners:
    """Long-lived listeners (the lab's probe script) recording each token they receive."""

    def __init__(self, lab: t.Lab):
        self.seen: dict[str, tuple[tuple[str, str, int], str]] = {}
        self.processes: list[subprocess.Popen] = []
        for key, role in LISTENERS.items():
            protocol, _, port = key
            process = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns(role), sys.executable, probes.SCRIPT]
                + ["serve", protocol, str(port), "--seconds", str(LISTEN_SECONDS)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.processes.append(process)
            ready, _, _ = select.select([process.stdout], [], [], probes.READY_TIMEOUT)
            if not ready or json.loads(process.stdout.readline() or "{}").get("ready") is not True:
                self.stop()
                raise RuntimeError(f"listener {key} did not start")
            threading.Thread(target=self._read, args=(key, process), daemon=True).start()

    def _read(self, key: tuple[str, str, int], process: subprocess.Popen) -> None:
        for line in process.stdout:
            record = json.loads(line)
            self.seen[record["token"]] = (key, record["peer"])

    def stop(self) -> None:
        for process in self.processes:  # only the processes started above, by their own pid
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=5)


class Clients:
    """One long-lived client process per sending namespace (lab_client.py)."""

    def __init__(self, lab: t.Lab):
        self.processes: dict[str, subprocess.Popen] = {}
        self.answers: queue.Queue[dict] = queue.Queue()
        for role in sorted({f.namespace for f in FLOWS}):
            process = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns(role), sys.executable, "-S", CLIENT_SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.processes[role] = process
            threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.answers.put(json.loads(line))

    def probe(self, flows: list[LabFlow], timeout: float) -> list[tuple[probes.Outcome, str]]:
        """Send every flow at once; each one's outcome and token, in order."""
        tokens = [secrets.token_hex(8) for _ in flows]
        for index, (lab_flow, token) in enumerate(zip(flows, tokens, strict=True)):
            flow = lab_flow.flow
            request = {
                "id": index,
                "protocol": flow.protocol,
                "address": str(flow.destination),
                "port": flow.destination_port,
                "token": token,
                "timeout": timeout,
                "source": str(flow.source),
            }
            stdin = self.processes[lab_flow.namespace].stdin
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        outcomes: dict[int, probes.Outcome] = {}
        while len(outcomes) < len(flows):
            answer = self.answers.get(timeout=timeout + 15)
            key = answer.pop("id")
            outcomes[key] = probes.Outcome(**answer)
        return [(outcomes[i], tokens[i]) for i in range(len(flows))]

    def stop(self) -> None:
        for process in self.processes.values():  # only the processes started above
            process.stdin.close()
            process.terminate()
            process.wait(timeout=5)


def kernel_answer(outcome: probes.Outcome, token: str, listeners: Listeners):
    if not outcome.ok:
        return ("blocked",)
    deadline = time.monotonic() + 2  # the listener's line may still be on its way to us
    while token not in listeners.seen and time.monotonic() < deadline:
        time.sleep(0.01)
    (_, address, port), peer = listeners.seen[token]
    return ("allowed", f"{address}:{port}", peer)


def analyzer_answer(verdict, flow: Flow):
    if verdict.verdict != "allowed":
        return (verdict.verdict,)
    destination = verdict.translated_destination or f"{flow.destination}:{flow.destination_port}"
    address, _, port = destination.partition(":")
    if (flow.protocol, address, int(port)) not in LISTENERS:
        return ("blocked",)  # forwarded to where nothing listens: refused or unanswered
    return ("allowed", destination, verdict.translated_source or str(flow.source))


# -- the test ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    name: str
    render: object
    load: tuple[str, ...]
    listings: tuple[tuple[tuple[str, ...], object], ...]  # (command, parser)


BACKENDS = {
    "iptables": Backend(
        "iptables",
        render_iptables,
        ("iptables-restore",),
        ((("iptables-save",), parse_iptables),),
    ),
    "nftables": Backend(
        "nftables",
        render_nft,
        ("nft", "-f", "-"),
        (
            (("nft", "list", "ruleset"), parse_nftables),
            (("nft", "-j", "list", "ruleset"), parse_nftables),
        ),
    ),
}


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def lab(request, namespaces):
    backend = BACKENDS[request.param]
    if shutil.which(backend.load[0]) is None:
        pytest.skip(f"{backend.load[0]} is not installed (`make system-packages` installs it)")
    lab = t.Lab()
    try:
        lab.build()
        listeners, clients = Listeners(lab), Clients(lab)
        try:
            yield lab, backend, listeners, clients
        finally:
            clients.stop()
            listeners.stop()
    finally:
        lab.destroy()


def test_the_analyzer_agrees_with_the_kernel(lab):
    """≥100 random rulesets per backend, six flows each: the same answer, 100 %."""
    fw, backend, listeners, clients = lab
    rng = random.Random(f"{SEED}-{backend.name}")
    topology = Topology.of_site(lab_site(backend.name))
    mismatches, compared = [], 0
    for number in range(RULESETS):
        rules = random_ruleset(rng, nft=backend.name == "nftables")
        text = backend.render(rules)
        fw.exec(t.FW, *backend.load, input=text)
        kernel = [
            kernel_answer(o, token, listeners) for o, token in clients.probe(FLOWS, BLOCKED_TIMEOUT)
        ]
        for command, parse in backend.listings:
            listing = fw.exec(t.FW, *command).stdout
            ruleset = parse(listing)
            for index, lab_flow in enumerate(FLOWS):
                verdict = evaluate(ruleset, lab_flow.flow, topology)
                expected = analyzer_answer(verdict, lab_flow.flow)
                compared += 1
                if expected == kernel[index]:
                    continue
                # A slow answer under load is not a disagreement: ask the kernel again, patiently.
                ((outcome, token),) = clients.probe([lab_flow], CONFIRM_TIMEOUT)
                kernel[index] = kernel_answer(outcome, token, listeners)
                if expected != kernel[index]:
                    mismatches.append(
                        f"ruleset {number} ({' '.join(command)}), {lab_flow.flow}: kernel "
                        f"{kernel[index]}, analyzer {expected}\n  {verdict.reason}\n"
                        f"  lines: {verdict.lines}\n--- loaded ---\n{text}--- listed ---\n{listing}"
                    )
    assert not mismatches, f"{len(mismatches)} of {compared} disagree:\n" + "\n".join(
        mismatches[:3]
    )
    assert compared >= RULESETS * len(FLOWS)
