"""Benchmark: analyse a 5,000-line firewall configuration for the guide's flows, in process.

Target (issue #11, "Speed"): p95 <= 200 ms on 2 cores, and lines/s per vendor, compared against
the kernel's own parser loading the same file in the same run: ``iptables-restore --test`` for
iptables, ``nft -c -f`` for nftables.

The configurations are generated (seeded, so every run times the same text) in the shape of a
busy router: Docker's chains, per-department user chains jumped to from FORWARD by source
network, each a few dozen accepts, drops and rejects over ports, ranges and multiport lists, a
stateful accept, port-forwards and masquerade. ``analyze`` (parse, evaluate every guide flow,
work out the missing steps) is timed with ``time.perf_counter_ns`` after a warm-up; the peer
runs inside a throwaway network namespace, so it never touches the machine's own rules (it
needs root; without it the peer is reported as unavailable).

    .venv/bin/python bench/analyze.py [--lines 5000] [--iterations 50] [--peer-iterations 10]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sites.analyzer.analyze import analyze  # noqa: E402
from sites.description import GUIDE_PROFILE, SiteDescription  # noqa: E402

SITE_FILE = REPO_ROOT / "docs" / "examples" / "monitoring.json"
P95_TARGET_MS = 200.0
SEED = 11


def iptables_config(lines: int) -> str:
    """About ``lines`` lines of iptables-save output for a busy router."""
    rng = random.Random(SEED)
    chains = max(1, lines // 50)
    out = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    out += [f":dept{n} - [0:0]" for n in range(chains)]
    out += [":DOCKER-USER - [0:0]", "-A FORWARD -j DOCKER-USER", "-A DOCKER-USER -j RETURN"]
    out += ["-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    out += [f"-A FORWARD -i lan0 -s 10.{n // 250}.{n % 250}.0/24 -j dept{n}" for n in range(chains)]
    body = lines - len(out) - 12
    for index in range(body):
        n = index % chains
        port = rng.choice([22, 25, 53, 80, 443, 3389, 8080, 4401, 4403])
        match = rng.choice(
            [
                f"-p tcp -m tcp --dport {port}",
                f"-p udp -m udp --dport {port}",
                f"-p tcp -m tcp --dport {port}:{port + 10}",
                f"-p tcp -m multiport --dports {port},{port + 1},{port + 100}",
                f"-d 203.0.{rng.randrange(256)}.0/24 -p tcp -m tcp --dport {port}",
            ]
        )
        target = rng.choice(["ACCEPT", "ACCEPT", "DROP", "REJECT --reject-with tcp-reset"])
        if target.startswith("REJECT") and "-p udp" in match:
            target = "DROP"
        out.append(f"-A dept{n} -o wan0 {match} -j {target}")
    out += ["-A FORWARD -i lan0 -o wan0 -s 192.168.1.0/24 -p tcp -m tcp --dport 443 -j ACCEPT"]
    out += ["COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]"]
    out += [":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    out += ["-A PREROUTING -i wan0 -d 192.0.2.1/32 -p tcp -m tcp --dport 8443 -j DNAT "]
    out[-1] += "--to-destination 192.168.1.50:443"
    out += ["-A POSTROUTING -o wan0 -j MASQUERADE", "COMMIT"]
    return "\n".join(out) + "\n"


def nft_config(lines: int) -> str:
    """The same router in ``nft list ruleset`` form."""
    rng = random.Random(SEED)
    chains = max(1, lines // 50)
    out = ["table inet filter {", "\tchain forward {"]
    out += ["\t\ttype filter hook forward priority filter; policy drop;"]
    out += ["\t\tct state established,related accept"]
    out += [
        f'\t\tiifname "lan0" ip saddr 10.{n // 250}.{n % 250}.0/24 jump dept{n}'
        for n in range(chains)
    ]
    out += ['\t\tiifname "lan0" oifname "wan0" ip saddr 192.168.1.0/24 tcp dport 443 accept']
    out += ["\t}"]
    body = lines - len(out) - 14 - 2 * chains
    per_chain = max(1, body // chains)
    for n in range(chains):
        out.append(f"\tchain dept{n} {{")
        for _ in range(per_chain):
            port = rng.choice([22, 25, 53, 80, 443, 3389, 8080, 4401, 4403])
            match = rng.choice(
                [
                    f"tcp dport {port}",
                    f"udp dport {port}",
                    f"tcp dport {port}-{port + 10}",
                    f"tcp dport {{ {port}, {port + 1}, {port + 100} }}",
                    f"ip daddr 203.0.{rng.randrange(256)}.0/24 tcp dport {port}",
                ]
            )
            verdict = rng.choice(["accept", "accept", "drop", "reject"])
            out.append(f'\t\toifname "wan0" {match} {verdict}')
        out.append("\t}")
    out += ["}", "table ip nat {", "\tchain prerouting {"]
    out += ["\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    out += ['\t\tiifname "wan0" ip daddr 192.0.2.1 tcp dport 8443 dnat to 192.168.1.50:443']
    out += ["\t}", "\tchain postrouting {"]
    out += ["\t\ttype nat hook postrouting priority srcnat; policy accept;"]
    out += ['\t\toifname "wan0" masquerade', "\t}", "}"]
    return "\n".join(out) + "\n"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def time_ours(
    text: str, vendor: str, site: SiteDescription, iterations: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU time shows the cost on a shared
    machine, where other processes stretch the wall clock)."""
    analyze(text, vendor, site, GUIDE_PROFILE)  # warm-up
    wall, cpu = [], []
    for _ in range(iterations):
        start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
        analyze(text, vendor, site, GUIDE_PROFILE)
        wall.append((time.perf_counter_ns() - start) / 1e6)
        cpu.append((time.process_time_ns() - start_cpu) / 1e6)
    return wall, cpu


def time_peer(command: list[str], text: str, iterations: int) -> list[float] | str:
    """The kernel's parser loading ``text`` in a throwaway namespace (ms), or why not."""
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which(command[0]) is None:
        return f"unavailable ({command[0]} in a network namespace needs root)"
    namespace = f"bench-analyze-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", namespace], capture_output=True).returncode:
        return "unavailable (cannot create a network namespace)"
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".rules") as handle:
            handle.write(text)
            handle.flush()
            full = ["ip", "netns", "exec", namespace, *command, handle.name]
            samples = []
            for _ in range(iterations + 1):
                start = time.perf_counter_ns()
                result = subprocess.run(full, capture_output=True, text=True)
                samples.append((time.perf_counter_ns() - start) / 1e6)
                if result.returncode:
                    return f"failed: {result.stderr.strip()[:200]}"
            return samples[1:]  # the first run warms the caches
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--peer-iterations", type=int, default=10)
    args = parser.parse_args()
    site = SiteDescription.from_dict(json.loads(SITE_FILE.read_text()))
    missed = False
    print(f"analyse {args.lines:,} lines for the guide's flows ({SITE_FILE.name}), in process")
    print(
        f"{'vendor':<10} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'lines/s':>10}   "
        "peer (kernel parser, wall clock)"
    )
    for vendor, generate, peer in (
        ("iptables", iptables_config, ["iptables-restore", "--test"]),
        ("nftables", nft_config, ["nft", "-c", "-f"]),
    ):
        text = generate(args.lines)
        count = len(text.splitlines())
        ours, cpu = time_ours(text, vendor, site, args.iterations)
        p50, p95 = percentile(ours, 0.5), percentile(ours, 0.95)
        theirs = time_peer(peer, text, args.peer_iterations)
        if isinstance(theirs, str):
            peer_text = f"{' '.join(peer)}: {theirs}"
        else:
            peer_p50 = percentile(theirs, 0.5)
            peer_text = (
                f"{' '.join(peer)}: p50 {peer_p50:.1f} ms, {count / peer_p50 * 1000:,.0f} lines/s; "
                f"ours/peer = {p50 / peer_p50:.2f}"
            )
        print(
            f"{vendor:<10} {p50:>8.1f} {p95:>8.1f} {percentile(cpu, 0.5):>8.1f} "
            f"{count / p50 * 1000:>10,.0f}   {peer_text}"
        )
        if p95 > P95_TARGET_MS:
            missed = True
            print(f"  {vendor}: p95 {p95:.1f} ms misses the target of {P95_TARGET_MS:.0f} ms")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
