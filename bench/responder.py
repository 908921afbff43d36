"""Benchmark: probe responder handshakes per second on loopback.

Target (DESIGN.md, "Targets"): the probe responder answers >= 5,000 handshakes/s on loopback.

The servers run in child processes (this script with ``--serve``), the client in this one, so
client and server never share an event loop. Two servers are timed in the same run:

- **responder**: ``sites.probes.responder.ProbeResponder`` as the portal runs it, through
  ``run()``: TCP and UDP listeners on 127.0.0.1, a ``BatchingSink`` whose ``write_batch`` does
  nothing (batching and the worker thread are included, the database is not), default limits
  except the per-source rate limit and connection cap raised out of the way (every probe comes
  from 127.0.0.1; the limiter still runs for each one). Every handshake carries a distinct valid token, which is
  verified, checked against and added to the replay cache, answered ``OK`` with a receipt and
  recorded.
- **bare asyncio** (the peer): a plain asyncio Protocol server doing nothing but the exchange:
  read up to the newline, write a fixed answer as long as a real one, close. No token, timer or
  sink. It is what the same exchange costs written the usual asyncio way.

A TCP handshake is: connect, send the token line, read the answer to end of stream (the server
closes). The client keeps ``--concurrency`` handshakes in flight on raw non-blocking sockets
driven by event-loop callbacks (cheaper than asyncio transports, so the server's cost shows).
A UDP exchange is one datagram each way; ``--udp-lanes`` sockets each keep one request in flight
(an answer not back within 0.5 s counts as lost).

After an untimed warm-up, ``--rounds`` rounds time ``-n`` handshakes per server and protocol,
the servers alternating which goes first; the median round is reported, with the range. CPU use
of both processes is read from /proc: on a busy machine the rates fall with the CPU share, while
"per server CPU-second" (handshakes over the server's own CPU time) moves much less.

Run from the repository root (no Django settings, no database; about 20 s on an idle machine)::

    .venv/bin/python bench/responder.py [-n 20000] [--rounds 3] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sites.probes.protocol import format_ok, format_request  # noqa: E402
from sites.probes.responder import (  # noqa: E402
    BatchingSink,
    ProbeResponder,
    event_loop_factory,
    run,
)
from sites.probes.tokens import issue_token  # noqa: E402

TARGET = 5_000  # handshakes/s
HOST = "127.0.0.1"
KEY_ENV = "PROBE_BENCH_KEY"
# The bare server's answer: as long as a real OK line.
BARE_ANSWER = format_ok("127.0.0.1", 54321, 54321, "tcp", 1_800_000_000, "A" * 22)


# --- servers (child process) ------------------------------------------------------------------


def _announce(tcp_port: int, udp_port: int) -> None:
    print(json.dumps({"tcp": tcp_port, "udp": udp_port}), flush=True)


def serve_responder() -> None:
    sink = BatchingSink(lambda batch: None)
    responder = ProbeResponder(
        bytes.fromhex(os.environ[KEY_ENV]),
        [(HOST, 0, "tcp"), (HOST, 0, "udp")],
        sink,
        rate_per_source=(10**9, 1e9),
        max_connections_per_source=1024,
    )
    run(responder, on_started=lambda r: _announce(r.endpoint("tcp").port, r.endpoint("udp").port))
    print(
        json.dumps(
            {"outcomes": dict(responder.outcomes), "written": sink.written, "dropped": sink.dropped}
        ),
        flush=True,
    )


class _BareTcp(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        if b"\n" in self.buffer:
            self.transport.write(BARE_ANSWER)
            self.transport.close()


class _BareUdp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(BARE_ANSWER, addr)


def serve_bare() -> None:
    async def main():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        server = await loop.create_server(_BareTcp, HOST, 0, backlog=1024)
        udp, _ = await loop.create_datagram_endpoint(_BareUdp, local_addr=(HOST, 0))
        _announce(server.sockets[0].getsockname()[1], udp.get_extra_info("sockname")[1])
        await stop.wait()
        server.close()
        udp.close()

    asyncio.run(main(), loop_factory=event_loop_factory())  # the same loop as the responder's
    print(json.dumps({}), flush=True)


# --- client (this process) ----------------------------------------------------------------------


@dataclass
class Phase:
    count: int
    seconds: float
    good: int
    client_cpu: float
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.count / self.seconds


class _TcpHandshakes:
    """Drives TCP handshakes on raw non-blocking sockets with loop callbacks (no transports or
    tasks), so the client spends as little CPU per handshake as it can and the server's cost
    dominates."""

    def __init__(self, port: int, lines: list[bytes], concurrency: int, expect: bytes):
        self.loop = asyncio.get_running_loop()
        self.address = (HOST, port)
        self.pending = iter(lines)
        self.expect = expect
        self.in_flight = 0
        self.good = 0
        self.finished = self.loop.create_future()
        for _ in range(concurrency):
            self._next()

    def _next(self) -> None:
        line = next(self.pending, None)
        if line is None:
            if self.in_flight == 0 and not self.finished.done():
                self.finished.set_result(self.good)
            return
        self.in_flight += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if sock.connect_ex(self.address) in (0, errno.EINPROGRESS):
            self.loop.add_writer(sock.fileno(), self._connected, sock, line)
        else:
            self._done(sock, b"")

    def _connected(self, sock: socket.socket, line: bytes) -> None:
        self.loop.remove_writer(sock.fileno())
        try:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                raise ConnectionError
            sock.send(line)
        except OSError:
            return self._done(sock, b"")
        self.loop.add_reader(sock.fileno(), self._readable, sock, [])

    def _readable(self, sock: socket.socket, chunks: list[bytes]) -> None:
        try:
            data = sock.recv(1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            chunks.append(data)
            return
        self.loop.remove_reader(sock.fileno())
        self._done(sock, b"".join(chunks))

    def _done(self, sock: socket.socket, answer: bytes) -> None:
        sock.close()
        self.in_flight -= 1
        self.good += answer.startswith(self.expect)
        self._next()


async def tcp_handshakes(port: int, lines: list[bytes], concurrency: int, expect: bytes) -> int:
    """Run every line as one TCP handshake (connect, send the line, read the answer to end of
    stream), ``concurrency`` at a time; return how many answers started with ``expect``."""
    return await _TcpHandshakes(port, lines, concurrency, expect).finished


class _UdpLane(asyncio.DatagramProtocol):
    def __init__(self):
        self.waiter: asyncio.Future | None = None

    def datagram_received(self, data, addr):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)


async def udp_exchanges(port: int, lines: list[bytes], lanes: int, expect: bytes) -> int:
    """Send every line as one datagram, one in flight per lane; return the good answers."""
    loop = asyncio.get_running_loop()
    pending = iter(lines)
    good = 0

    async def lane():
        nonlocal good
        transport, protocol = await loop.create_datagram_endpoint(
            _UdpLane, remote_addr=(HOST, port)
        )
        try:
            for line in pending:
                protocol.waiter = loop.create_future()
                transport.sendto(line)
                try:
                    async with asyncio.timeout(0.5):
                        answer = await protocol.waiter
                except TimeoutError:
                    continue
                good += answer.startswith(expect)
        finally:
            transport.close()

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return good


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One server child process, for the length of a ``with``."""

    def __init__(self, kind: str, key: bytes):
        self.kind, self.key = kind, key

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", self.kind],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, KEY_ENV: self.key.hex()},
            cwd=REPO_ROOT,
        )
        ports = json.loads(self.process.stdout.readline())
        self.tcp, self.udp = ports["tcp"], ports["udp"]
        self.report: dict = {}
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        self.report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def timed(server: Server, work: Callable[[], Awaitable[int]], count: int) -> Phase:
    server_before = process_cpu(server.process.pid)
    client_before = time.process_time()
    started = time.perf_counter()
    good = asyncio.run(work())
    seconds = time.perf_counter() - started
    server_after = process_cpu(server.process.pid)
    server_cpu = None if server_before is None else server_after - server_before
    return Phase(count, seconds, good, time.process_time() - client_before, server_cpu)


def drive(server: Server, proto: str, lines: list[bytes], args) -> Callable[[], Awaitable[int]]:
    if proto == "TCP":
        return lambda: tcp_handshakes(server.tcp, lines, args.concurrency, b"OK ")
    return lambda: udp_exchanges(server.udp, lines, args.udp_lanes, b"OK ")


def summary(name: str, phases: list[Phase], peer: list[Phase] | None) -> str:
    """The median round (by rate), with the range over rounds."""
    median = sorted(phases, key=lambda p: p.rate)[len(phases) // 2]
    rates = [p.rate for p in phases]
    text = (
        f"{name:14} {median.rate:>7,.0f}/s = {median.rate / TARGET:4.2f}x the {TARGET:,}/s "
        f"target (rounds {min(rates):,.0f}..{max(rates):,.0f})"
    )
    if peer:
        peer_median = sorted(p.rate for p in peer)[len(peer) // 2]
        text += f"; {median.rate / peer_median:4.2f}x bare asyncio"
    not_ok = sum(p.count - p.good for p in phases)
    if not_ok:
        text += f"; {not_ok:,} without an OK answer"
    cpu = f"client CPU {median.client_cpu / median.seconds:.0%}"
    if median.server_cpu:
        cpu = (
            f"server CPU {median.server_cpu / median.seconds:.0%}, {cpu}: "
            f"{median.count / median.server_cpu:,.0f} per server CPU-second"
        )
    return f"{text}\n{'':17}{cpu}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20_000, help="timed handshakes per phase")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median reported)")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=200, help="TCP handshakes in flight")
    parser.add_argument(
        "--udp-lanes", type=int, default=100, help="UDP sockets, one request in flight each"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the bare asyncio server")
    parser.add_argument("--serve", choices=("responder", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "responder":
        return serve_responder()
    if args.serve == "bare":
        return serve_bare()

    key = os.urandom(32)
    expires = int(time.time()) + 3600
    # Distinct tokens everywhere: a token reused on the same port would be REPLAYED.
    rounds = [
        [format_request(issue_token(key, r * 10**6 + i, expires)) for i in range(args.n)]
        for r in range(1, args.rounds + 1)
    ]
    warm = [format_request(issue_token(key, i, expires)) for i in range(args.warmup)]
    kinds = ["responder"] if args.no_peer else ["responder", "bare"]
    print(
        f"probe responder benchmark: Python {platform.python_version()}, {platform.system()}, "
        f"nproc {os.cpu_count()}, loop {'uvloop' if event_loop_factory() else 'asyncio'}; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"  {args.n:,} per phase, {args.rounds} rounds after {args.warmup:,} warm-up, servers "
        f"alternating; TCP concurrency {args.concurrency}, UDP lanes {args.udp_lanes}"
    )
    started = time.perf_counter()
    results: dict[tuple[str, str], list[Phase]] = {}
    with contextlib.ExitStack() as stack:
        servers = {kind: stack.enter_context(Server(kind, key)) for kind in kinds}
        for server in servers.values():
            for proto in ("TCP", "UDP"):
                asyncio.run(drive(server, proto, warm, args)())
        for number, lines in enumerate(rounds):
            order = kinds if number % 2 == 0 else kinds[::-1]  # neither always goes first
            for proto in ("TCP", "UDP"):
                for kind in order:
                    work = drive(servers[kind], proto, lines, args)
                    results.setdefault((kind, proto), []).append(
                        timed(servers[kind], work, len(lines))
                    )
    report = servers["responder"].report
    sent = 2 * (args.warmup + args.n * args.rounds)
    print(
        f"  the responder recorded {report.get('written', 0):,} observations of {sent:,} probes "
        f"sent (outcomes {report.get('outcomes')}, dropped {report.get('dropped')})"
    )
    for proto in ("TCP", "UDP"):
        peer = results.get(("bare", proto))
        print(summary(f"responder {proto}", results[("responder", proto)], peer))
        if peer:
            print(summary(f"bare {proto}", peer, None))
    print(f"  load average {os.getloadavg()[0]:.2f} at end; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
