"""Benchmark: render one site for every vendor, in process, against aerleon.

Target (DESIGN.md, "Targets"): rendering one site takes p50 <= 5 ms per vendor, and is at least
10x faster than generating the same policy with aerleon wherever aerleon covers the vendor.

For each example site (docs/examples/monitoring.json and static-host.json) and each renderer in
``sites.vendors.RENDERERS`` this times ``renderer.render(derive_rules(site, profile), site,
profile)`` with ``time.perf_counter_ns`` after a warm-up, and reports p50 and p95. Where aerleon
has a generator for the same kind of device, it times aerleon producing the equivalent filter
policy from the same parsed site, in alternating rounds with ours (so both see the same machine
load):

- outbound: TCP 4401 (the profile's outbound ports) from the backup host to the datacenter;
- with monitoring: TCP 4403, UDP 4403 and TCP 4401 from the monitoring sources to the host.

aerleon is timed twice, both through its public ``aerleon.api.Generate`` from dict definitions
(building the policy and definitions dicts from the site, ``naming.Naming`` and ``Generate`` are
all inside the timed region, as ``derive_rules`` is on our side):

- "aerleon": ``api.Generate`` as shipped. Every call re-runs plugin discovery
  (``PluginSupervisor.Start()`` scans all installed distributions' entry points), a cost that
  grows with the number of packages installed in the environment.
- "no-scan": the same call with that rediscovery turned into a no-op after the first call, so
  only aerleon's own policy building and generation are timed (the stricter comparison).

aerleon renders filter policies only; ours also derive NAT, explanations and verification steps,
so our side does more work per vendor. Interpret the ratio as "time for aerleon's subset" over
"time for our whole instruction set".

Run from the repository root (``make bench`` installs aerleon first)::

    .venv/bin/python bench/render.py [--iterations N] [--aerleon-iterations N] [--show-aerleon]

Needs no Django settings: only the pure modules ``sites.description``, ``sites.policy`` and
``sites.vendors`` are imported.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import ipaddress
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import distributions, version
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sites.description import GUIDE_PROFILE, ProfileSpec, SiteDescription  # noqa: E402
from sites.policy import derive_rules, inbound_ports  # noqa: E402
from sites.vendors import RENDERERS  # noqa: E402
from sites.vendors.base import Renderer  # noqa: E402

try:
    from absl import logging as absl_logging
    from aerleon import api as aerleon_api  # first, so a missing aerleon is named as such
    from aerleon.lib import naming as aerleon_naming
    from aerleon.lib import plugin_supervisor as aerleon_plugins
except ImportError as error:
    sys.exit(
        f"bench/render.py: aerleon is not installed ({error}).\n"
        "`make bench` installs it (the project's `bench` extra) and runs this benchmark; or:\n"
        "  .venv/bin/pip install -e '.[bench]'"
    )

SITES = ("docs/examples/monitoring.json", "docs/examples/static-host.json")
P50_TARGET_MS = 5.0
RATIO_TARGET = 10.0

# Our renderer slug -> (aerleon target, filters). Each filter is (header options, which terms it
# holds: "out" = backup host -> datacenter, "in" = monitoring -> backup host, "all" = both).
# Zone- and interface-based devices get one filter per direction, as their policies are written;
# single-ruleset devices (iptables FORWARD, nftables forward hook, pf) one filter with all terms.
# Interface and zone names are our renderers' defaults. aerleon's "juniper" target is the Junos
# stateless firewall filter; "srx" is SRX security policies, which is what juniper-srx renders.
_ZONES_OUT = "from-zone trust to-zone untrust inet"
_ZONES_IN = "from-zone untrust to-zone trust inet"
AERLEON_TARGETS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "iptables": ("iptables", (("FORWARD DROP inet", "all"),)),
    "nftables": ("nftables", (("inet forward", "all"),)),
    "pf": ("packetfilter", (("backup inet", "all"),)),
    "cisco-asa": ("ciscoasa", (("inside_in", "out"), ("outside_in", "in"))),
    "cisco-ios": ("cisco", (("backup-out extended", "out"), ("backup-in extended", "in"))),
    "juniper-srx": ("srx", ((_ZONES_OUT, "out"), (_ZONES_IN, "in"))),
    "paloalto": ("paloalto", ((_ZONES_OUT, "out"), (_ZONES_IN, "in"))),
    "fortigate": (
        "fortigate",
        (
            ("from-zone internal to-zone wan1 inet", "out"),
            ("from-zone wan1 to-zone internal inet", "in"),
        ),
    ),
    # The backup host's own firewall (guide rule 6): the host is "local", so the outbound rule
    # names no source and the inbound rules no destination, as our Windows renderer does.
    "windows": ("windows_advfirewall", (("out inet", "out"), ("in inet", "in"))),
}
HOST_SIDE = frozenset({"windows"})


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    p50_ms: float
    p95_ms: float
    n: int


def _percentile(sorted_ns: list[int], percent: float) -> float:
    """Nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    rank = max(1, math.ceil(percent / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


def _stats(samples: list[int]) -> Stats:
    samples.sort()
    return Stats(_percentile(samples, 50), _percentile(samples, 95), len(samples))


def measure(fn: Callable[[], Any], iterations: int, warmup: int) -> Stats:
    gc.collect()  # start each measurement without garbage left by the previous one
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    samples = []
    append = samples.append
    for _ in range(iterations):
        start = clock()
        fn()
        append(clock() - start)
    return _stats(samples)


def measure_against_aerleon(
    mine: Callable[[], Any], theirs: Callable[[], Any], args: argparse.Namespace
) -> tuple[Stats, Stats, Stats]:
    """Time ours, aerleon as shipped and aerleon without the plugin rescan in alternating
    rounds, so that all three see the same machine conditions (other processes come and go on
    a shared machine): each round is ``iterations // aerleon_iterations`` renders of ours, one
    aerleon call, then one aerleon call without the rescan."""
    gc.collect()
    for _ in range(args.warmup):
        mine()
    for _ in range(args.aerleon_warmup):
        theirs()
        with no_plugin_rescan():
            theirs()
    per_round = max(1, args.iterations // args.aerleon_iterations)
    clock = time.perf_counter_ns
    ours_ns: list[int] = []
    shipped_ns: list[int] = []
    no_scan_ns: list[int] = []
    for _ in range(args.aerleon_iterations):
        for _ in range(per_round):
            start = clock()
            mine()
            ours_ns.append(clock() - start)
        start = clock()
        theirs()
        shipped_ns.append(clock() - start)
        with no_plugin_rescan():
            start = clock()
            theirs()
            no_scan_ns.append(clock() - start)
    return _stats(ours_ns), _stats(shipped_ns), _stats(no_scan_ns)


# --- our side ------------------------------------------------------------------------------


def ours(renderer: Renderer, site: SiteDescription, profile: ProfileSpec) -> Callable[[], Any]:
    def run():
        return renderer.render(derive_rules(site, profile), site, profile)

    return run


def rendered_text(rendered) -> str:
    return "\n".join(f"{s.title}\n{s.config}\n{s.reason}\n{s.verify}" for s in rendered.steps)


# --- aerleon side --------------------------------------------------------------------------


def _service(protocol: str, port: int) -> str:
    return f"{protocol.upper()}_{port}"


def aerleon_input(
    site: SiteDescription, profile: ProfileSpec, slug: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(policy dict, definitions dict) for aerleon: the site's filter rules for one target."""
    target, filters = AERLEON_TARGETS[slug]
    host_side = slug in HOST_SIDE
    # Guide rule 3, as sites.policy applies it: the fixed address, the range, the reserved
    # DHCP address, else the whole LAN.
    if site.host_addressing == "static" and site.host_address is not None:
        hosts = [IPv4Network(site.host_address)]
    elif site.host_addressing == "range" and site.host_range_start and site.host_range_end:
        hosts = list(ipaddress.summarize_address_range(site.host_range_start, site.host_range_end))
    elif site.dhcp_reservation_planned and site.host_address is not None:
        hosts = [IPv4Network(site.host_address)]
    else:
        hosts = [site.lan_network]
    networks: dict[str, Any] = {
        "BACKUP_HOST": {"values": [{"address": str(n)} for n in hosts]},
        "DATACENTER": {"values": [{"address": str(n)} for n in profile.datacenter_networks]},
    }
    services: dict[str, Any] = {}

    out_terms = []
    for spec in profile.outbound_ports:
        services[_service(spec.protocol, spec.port)] = [
            {"port": spec.port, "protocol": spec.protocol}
        ]
        term = {
            "name": f"backup-out-{spec.protocol}-{spec.port}",
            "source-address": "BACKUP_HOST",
            "destination-address": "DATACENTER",
            "protocol": spec.protocol,
            "destination-port": _service(spec.protocol, spec.port),
            "action": "accept",
        }
        if host_side:
            del term["source-address"]
        out_terms.append(term)

    in_terms = []
    if site.monitoring_enabled and site.host_address is not None:
        monitored = IPv4Network(site.host_address)
        target_name = "BACKUP_HOST"
        if hosts != [monitored]:  # a range or the LAN outbound; monitoring reaches one address
            target_name = "MONITORED_HOST"
            networks[target_name] = {"values": [{"address": str(monitored)}]}
        if site.monitoring_sources:
            networks["MONITORING"] = {
                "values": [{"address": str(n)} for n in site.monitoring_sources]
            }
        for spec in inbound_ports(profile):
            services[_service(spec.protocol, spec.port)] = [
                {"port": spec.port, "protocol": spec.protocol}
            ]
            term = {
                "name": f"monitor-in-{spec.protocol}-{spec.port}",
                "source-address": "MONITORING",
                "destination-address": target_name,
                "protocol": spec.protocol,
                "destination-port": _service(spec.protocol, spec.port),
                "action": "accept",
            }
            if not site.monitoring_sources:
                del term["source-address"]
            if host_side:
                del term["destination-address"]
            in_terms.append(term)

    built = []
    for header, which in filters:
        terms = (out_terms if which in ("out", "all") else []) + (
            in_terms if which in ("in", "all") else []
        )
        if terms:
            built.append({"header": {"targets": {target: header}}, "terms": terms})
    policy = {"filename": f"bench-{slug}", "filters": built}
    return policy, {"networks": networks, "services": services}


def aerleon(site: SiteDescription, profile: ProfileSpec, slug: str) -> Callable[[], Any]:
    def run():
        policy, definitions = aerleon_input(site, profile, slug)
        names = aerleon_naming.Naming()
        names.ParseDefinitionsObject(definitions, "bench")
        return aerleon_api.Generate([policy], names)

    return run


@contextlib.contextmanager
def no_plugin_rescan() -> Iterator[None]:
    """Make ``PluginSupervisor.Start()`` (called by every ``Generate``) keep the generators found
    by the first call instead of rediscovering plugins; restores it on exit."""
    supervisor = aerleon_plugins.PluginSupervisor
    if not supervisor.is_setup:
        supervisor.Start()
    supervisor.Start = lambda config=None: None  # instance attribute shadows the method
    try:
        yield
    finally:
        del supervisor.Start


# --- checks and report ---------------------------------------------------------------------


def expected_tokens(site: SiteDescription, profile: ProfileSpec) -> list[str]:
    """What every rendering of this site must mention: datacenter, ports, monitoring sources."""
    tokens = [str(n.network_address) for n in profile.datacenter_networks]
    tokens += [str(p.port) for p in profile.outbound_ports]
    if site.monitoring_enabled:
        tokens += [str(p.port) for p in profile.monitoring_ports]
        tokens += [str(n.network_address) for n in site.monitoring_sources]
    return tokens


def check(text: str, tokens: list[str], what: str) -> None:
    missing = [t for t in tokens if t not in text]
    if missing:
        sys.exit(f"bench/render.py: {what} does not mention {', '.join(missing)}; not timing it.")


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}×"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def cpu_model() -> str:
    with contextlib.suppress(OSError):  # no /proc (not Linux): ask platform instead
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations",
        type=int,
        default=1000,
        help="timed renders per vendor and site (default 1000)",
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="untimed renders first (default 100)"
    )
    parser.add_argument(
        "--aerleon-iterations",
        type=int,
        default=100,
        help="timed aerleon generations per target, site and mode (default 100)",
    )
    parser.add_argument("--aerleon-warmup", type=int, default=10)
    parser.add_argument(
        "--site",
        action="append",
        dest="sites",
        metavar="PATH",
        help=f"site file, repeatable (default: {', '.join(SITES)})",
    )
    parser.add_argument(
        "--show-aerleon",
        action="store_true",
        help="print what aerleon generates for each target, then time as usual",
    )
    args = parser.parse_args(argv)

    absl_logging.set_verbosity(absl_logging.ERROR)
    aerleon_version = version("aerleon")
    began = time.perf_counter()
    print(
        "Rendering benchmark: derive_rules + render per vendor, in process (times in ms, p50 / p95)"
    )
    print(
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs "
        f"({cpu_model()}); aerleon {aerleon_version}; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"ours: {args.iterations} timed after {args.warmup} warm-up; aerleon: "
        f"{args.aerleon_iterations} timed after {args.aerleon_warmup} warm-up, per mode; "
        "where aerleon applies, the three are timed in alternating rounds"
    )
    installed = sum(1 for _ in distributions())
    print(
        f"aerleon = api.Generate as shipped (rescans the entry points of all {installed} "
        "installed distributions on every call); no-scan = the same without the rescan"
    )

    worst_p50: tuple[float, str] = (0.0, "")
    ratios: dict[str, list[tuple[float, str]]] = {"aerleon": [], "no-scan": []}
    for site_path in args.sites or SITES:
        site = SiteDescription.from_dict(json.loads((REPO_ROOT / site_path).read_text()))
        profile = GUIDE_PROFILE
        tokens = expected_tokens(site, profile)
        rows = []
        for slug, renderer in RENDERERS.items():
            vendor_site = (
                dataclasses.replace(site, vendor=slug) if renderer.describes_firewall else site
            )
            # A host renderer (windows) for a site whose host runs another system only says
            # "nothing to change": time it, but neither check it nor compare it with aerleon.
            applies = renderer.describes_firewall or site.host_os == "windows"
            run = ours(renderer, vendor_site, profile)
            if applies:
                check(rendered_text(run()), tokens, f"our {slug} rendering of {site_path}")
            if applies and slug in AERLEON_TARGETS:
                target = AERLEON_TARGETS[slug][0]
                gen = aerleon(vendor_site, profile, slug)
                output = "\n".join(gen().values())
                if args.show_aerleon:
                    print(f"\n--- aerleon {target} for {site_path} ---\n{output}")
                check(output, tokens, f"aerleon's {target} output for {site_path}")
                mine, theirs, lean = measure_against_aerleon(run, gen, args)
                row = [slug, fmt_ms(mine.p50_ms), fmt_ms(mine.p95_ms)]
                r_api = theirs.p50_ms / mine.p50_ms
                r_lean = lean.p50_ms / mine.p50_ms
                ratios["aerleon"].append((r_api, f"{slug}, {Path(site_path).name}"))
                ratios["no-scan"].append((r_lean, f"{slug}, {Path(site_path).name}"))
                row += [
                    target,
                    fmt_ms(theirs.p50_ms),
                    fmt_ms(theirs.p95_ms),
                    fmt_ratio(r_api),
                    fmt_ms(lean.p50_ms),
                    fmt_ms(lean.p95_ms),
                    fmt_ratio(r_lean),
                ]
            else:
                mine = measure(run, args.iterations, args.warmup)
                row = [slug, fmt_ms(mine.p50_ms), fmt_ms(mine.p95_ms)] + ["—"] * 7
            rows.append(row)
            if mine.p50_ms > worst_p50[0]:
                worst_p50 = (mine.p50_ms, f"{slug}, {Path(site_path).name}")
        rules = len(derive_rules(site, profile).rules)
        print(f"\nSite {site_path} ({rules} rules derived)\n")
        print(
            table(
                rows,
                [
                    "vendor",
                    "ours p50",
                    "ours p95",
                    "aerleon target",
                    "aerleon p50",
                    "aerleon p95",
                    "ratio",
                    "no-scan p50",
                    "no-scan p95",
                    "ratio (no-scan)",
                ],
            )
        )

    print()
    met = worst_p50[0] <= P50_TARGET_MS
    print(
        f"Target p50 ≤ {P50_TARGET_MS:g} ms per vendor: {'MET' if met else 'NOT MET'} "
        f"(worst p50 {worst_p50[0]:.3f} ms: {worst_p50[1]})"
    )
    verdicts = []
    for mode, label in (
        ("aerleon", "vs api.Generate as shipped"),
        ("no-scan", "vs api.Generate without the plugin rescan"),
    ):
        low, where = min(ratios[mode])
        verdicts.append(
            f"{'MET' if low >= RATIO_TARGET else 'NOT MET'} {label} "
            f"(lowest ratio {low:.1f}×: {where})"
        )
    print(f"Target ≥ {RATIO_TARGET:g}× faster than aerleon: " + "; ".join(verdicts))
    print(
        f"\n(run took {time.perf_counter() - began:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
