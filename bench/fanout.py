"""Benchmark: inbound probe fan-out to 10,000 targets on loopback, against ``nmap -sT``.

Target (DESIGN.md, "Targets"): checking 10,000 inbound targets on loopback runs at >= 50 % of the
rate (targets per second) of ``nmap -sT`` on the same targets, in the same run.

What runs:

- A child process starts the reference listener (``sites.probes.listener``) on every target: by
  default 10 loopback addresses (127.0.0.1 ... 127.0.0.10) x 1,000 TCP ports (20000-20999),
  below Linux's ephemeral port range so client sockets never collide with them.
- "ours": ``sites.probes.inbound.check_inbound`` over all targets (TCP, concurrency 500), in this
  process. Each target is a full probe: connect, send ``OBM-PROBE 1 <token>``, read and compare
  the ``OK <token>`` answer, close. Every target must come back ``proven``.
- "nmap": ``nmap -sT -n -Pn -p <ports> <addresses>`` on the same targets (connect scan, no DNS, no
  host discovery); nmap only completes the TCP handshake and closes, it exchanges no data. Its
  process start-up (a few milliseconds) is inside its timing. Every target must come back
  ``open``.
- After an unmeasured warm-up of each, rounds alternate ours / nmap (5 by default), each after
  the listener has gone idle; the medians are compared. CPU time per target is shown too (each
  contender's own process, and the listener's during that contender's rounds), which is steadier
  than wall time on a busy machine.

Both sides raise RLIMIT_NOFILE to the hard limit (10,000 listening sockets need it). nmap is
installed with ``apt-get install -y nmap`` when it is missing and this runs as root; otherwise the
script says how to install it, reports our figures alone and exits with status 2. Exit status 1
means a check failed (a target not proven / not open) or the ratio is below the target.

Loopback only: every address is checked to be in 127.0.0.0/8 before anything is bound or scanned.
Run from the repository root::

    .venv/bin/python bench/fanout.py [--addresses 10] [--ports 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sites.probes.inbound import InboundTarget, check_inbound  # noqa: E402
from sites.probes.listener import serve_listener  # noqa: E402

LOOPBACK = IPv4Network("127.0.0.0/8")
TOKEN = "1.4102444800.bench-nonce.bench-mac-0123456789ab"
TARGET_RATIO = 0.5
EPHEMERAL_START = 32768  # Linux default ip_local_port_range starts here


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        # Refused: keep the soft limit; main() says when it is too low.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def loopback_addresses(count: int) -> list[str]:
    addresses = [str(IPv4Address("127.0.0.1") + i) for i in range(count)]
    assert all(IPv4Address(a) in LOOPBACK for a in addresses), "loopback only"
    return addresses


# ---------------------------------------------------------------------------------------------
# The listener process


def _listener_process(addresses: list[str], ports: list[int], connection) -> None:
    raise_fd_limit()

    async def serve() -> None:
        listeners = []
        try:
            for address in addresses:
                listeners.append(await serve_listener(address, ports, [], TOKEN))
        except OSError as exc:
            connection.send(("error", f"could not bind {address}: {exc}"))
            for listener in listeners:
                await listener.close()
            return
        connection.send(("ready", sum(len(lst.tcp_ports) for lst in listeners)))
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_reader(connection.fileno(), stop.set)  # any message, or the parent gone
        await stop.wait()
        loop.remove_reader(connection.fileno())
        answered = sum(lst.answered for lst in listeners)
        for listener in listeners:
            await listener.close()
        connection.send(("stopped", answered))

    asyncio.run(serve())


# ---------------------------------------------------------------------------------------------
# The two contenders


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, limit: float = 5.0) -> None:
    """Let the listener finish the previous round's connections (nmap leaves it 10,000 to accept
    and close after it exits) so that they are not charged to the next contender."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    if last is None:
        time.sleep(1.0)
        return
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        now = cpu_seconds(pid)
        quiet = quiet + 1 if now == last else 0
        last = now


def run_ours(targets: list[InboundTarget], concurrency: int) -> tuple[float, float, dict[str, int]]:
    """Wall seconds, CPU seconds of this process, and the count of each outcome."""
    cpu = time.process_time()
    started = time.perf_counter()
    results = asyncio.run(check_inbound(targets, concurrency=concurrency, connect_timeout=5.0))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[str(result.outcome)] = outcomes.get(str(result.outcome), 0) + 1
    return elapsed, cpu, outcomes


def nmap_command(nmap: str, addresses: list[str], ports: list[int]) -> list[str]:
    assert all(IPv4Address(a) in LOOPBACK for a in addresses), "loopback only"
    contiguous = ports == list(range(ports[0], ports[-1] + 1))
    port_spec = f"{ports[0]}-{ports[-1]}" if contiguous else ",".join(map(str, ports))
    return [nmap, "-sT", "-n", "-Pn", "-p", port_spec, "-oG", "-", *addresses]


def run_nmap(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of nmap, and how many targets it reported open."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"nmap failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return elapsed, cpu, len(re.findall(r"\b\d+/open/tcp/", done.stdout))


def find_or_install_nmap() -> tuple[str | None, str]:
    nmap = shutil.which("nmap")
    if nmap:
        return nmap, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, (
            "nmap is not installed and this is not root with apt-get, so it cannot be "
            "installed here: run `sudo apt-get install -y nmap` (or your system's "
            "package manager) and run this again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("nmap missing: apt-get install -y nmap ...", flush=True)
    install = ["apt-get", "install", "-y", "-q", "nmap"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return None, f"apt-get install nmap failed: {done.stderr.strip()[-500:]}"
    nmap = shutil.which("nmap")
    return nmap, "" if nmap else "apt-get reported success but nmap is not on PATH"


def nmap_version(nmap: str) -> str:
    out = subprocess.run([nmap, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "nmap (version unknown)"


# ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One contender's rounds."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # its own process
    listener_cpus: list[float] = field(default_factory=list)  # the listener, during its round

    def rate(self, total: int) -> float:
        return total / statistics.median(self.walls)

    def summary(self, total: int) -> str:
        cpu = statistics.median(self.cpus) * 1e6 / total
        text = (
            f"median {statistics.median(self.walls):.2f} s = {self.rate(total):,.0f} "
            f"targets/s (best {total / min(self.walls):,.0f}/s); CPU {cpu:.0f} us/target"
        )
        if self.listener_cpus:
            listener = statistics.median(self.listener_cpus) * 1e6 / total
            text += f" + listener {listener:.0f} us/target"
        return text


def timed(tally: Tally, listener_pid: int, run):
    wait_until_idle(listener_pid)
    before = cpu_seconds(listener_pid)
    elapsed, cpu, *rest = run()
    after = cpu_seconds(listener_pid)
    tally.walls.append(elapsed)
    tally.cpus.append(cpu)
    if before is not None and after is not None:
        tally.listener_cpus.append(after - before)
    return (elapsed, *rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=10, help="loopback addresses (1-250)")
    parser.add_argument("--ports", type=int, default=1000, help="TCP ports per address")
    parser.add_argument("--base-port", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not 1 <= args.addresses <= 250:
        parser.error("--addresses must be 1-250")
    if not 1 <= args.rounds <= 15:
        parser.error("--rounds must be 1-15")
    if args.base_port < 1024 or args.base_port + args.ports > EPHEMERAL_START:
        parser.error(f"ports must lie in 1024-{EPHEMERAL_START - 1} (below the ephemeral range)")

    limit = raise_fd_limit()
    addresses = loopback_addresses(args.addresses)
    ports = list(range(args.base_port, args.base_port + args.ports))
    total = len(addresses) * len(ports)
    needed = total + 2 * args.concurrency + 100
    if limit < needed:
        print(f"RLIMIT_NOFILE hard limit {limit} < {needed} needed; use fewer targets.")
        return 1
    targets = [InboundTarget(IPv4Address(a), p, "tcp", TOKEN) for a in addresses for p in ports]

    nmap, why_no_nmap = find_or_install_nmap()
    command = nmap_command(nmap, addresses, ports) if nmap else None

    print(
        f"inbound probe fan-out: {total:,} TCP targets on loopback "
        f"({len(addresses)} addresses {addresses[0]}-{addresses[-1]} x {len(ports):,} ports "
        f"{ports[0]}-{ports[-1]}), {args.rounds} rounds, alternating"
    )
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, RLIMIT_NOFILE {limit}, "
        f"{nmap_version(nmap) if nmap else 'no nmap'}"
    )

    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    listener = context.Process(
        target=_listener_process, args=(addresses, ports, child_end), daemon=True
    )
    started = time.perf_counter()
    listener.start()
    ours, theirs, failures = Tally(), Tally(), []
    try:
        if not parent_end.poll(60):
            print("listener did not start within 60 s")
            return 1
        state, value = parent_end.recv()
        if state != "ready":
            print(f"listener: {value} (try another --base-port)")
            return 1
        print(
            f"listener process: {value:,} listening sockets in "
            f"{time.perf_counter() - started:.1f} s\n"
        )

        # Warm-up, not measured: imports, first accepts, the kernel's socket caches, nmap's
        # first start.
        run_ours(targets, args.concurrency)
        if command:
            run_nmap(command)

        for round_number in range(1, args.rounds + 1):
            elapsed, outcomes = timed(
                ours, listener.pid, lambda: run_ours(targets, args.concurrency)
            )
            line = f"round {round_number}: ours {elapsed:5.2f} s ({total / elapsed:7,.0f}/s)"
            if outcomes.get("proven", 0) != total:
                failures.append(f"round {round_number}: ours not all proven: {outcomes}")
            if command:
                elapsed, open_ports = timed(theirs, listener.pid, lambda: run_nmap(command))
                line += f"   nmap {elapsed:5.2f} s ({total / elapsed:7,.0f}/s)"
                if open_ports != total:
                    failures.append(
                        f"round {round_number}: nmap saw {open_ports:,} of {total:,} ports open"
                    )
            print(line, flush=True)
    finally:
        parent_end.send("stop")
        if parent_end.poll(30):
            state, answered = parent_end.recv()
            print(f"\nlistener answered {answered:,} probe lines")
        listener.join(10)
        if listener.is_alive():
            listener.terminate()
            listener.join(5)

    print(f"load average now {os.getloadavg()[0]:.2f} (other work on this machine skews both)")
    print()
    print(
        f"ours: check_inbound, concurrency {args.concurrency}: connect, send "
        "'OBM-PROBE 1 <token>', read and compare 'OK <token>', close"
    )
    print(f"      {ours.summary(total)}")
    for failure in failures:
        print(f"FAILED: {failure}")
    if not command:
        print(f"nmap: not run. {why_no_nmap}")
        return 2
    print(
        f"nmap: {' '.join(command[:6])} -oG - {addresses[0]}..{addresses[-1]} "
        "(connect and close only, no data exchanged)"
    )
    print(f"      {theirs.summary(total)}")
    ratio = ours.rate(total) / theirs.rate(total)
    verdict = "PASS" if ratio >= TARGET_RATIO and not failures else "FAIL"
    print(f"ratio ours/nmap (medians): {ratio:.0%} (target >= {TARGET_RATIO:.0%}): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
