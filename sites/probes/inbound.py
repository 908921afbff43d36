"""Inbound probe checks: from a portal worker to a site's public address (remote monitoring).

The customer runs the probe client in listen mode on the backup host; the firewall must forward
the monitoring ports to it. :func:`check_inbound` connects to each target and proves the path the
way docs/probe-protocol.md says, on the receiving side's word:

```
portal:  OBM-PROBE 1 <token>
client:  OK <token>
```

What it promises:

- ``proven`` only when the answer is exactly ``OK <token>`` (``\\n`` or ``\\r\\n``). Anything else
  is not a proof: ``refused`` (TCP reset, or an ICMP port-unreachable for UDP), ``timeout`` (no
  connection, or no answer in time; for UDP this means *not proven*, never "open"), ``mismatch``
  (something answered, or accepted and closed, but not with our token), ``error`` (a local or
  network error such as "network unreachable", or no usable token).
- At most ``concurrency`` sockets are open at once: a finished check starts the next target in
  its place (a semaphore without 10,000 waiting tasks). Every socket is closed, whatever happens,
  including when the caller is cancelled; a TCP connection is closed with a reset once its
  outcome is known, as ``nmap -sT`` does, so no TIME_WAIT entry is left at either end. At most
  257 bytes are read per answer, so nothing grows with what the other side sends.
- One :class:`InboundResult` per target, in the targets' order, with the time it took; a failing
  target never raises. Only invalid arguments raise (``ValueError``), before any connection.
- No name resolution, no address policy, no rate limiting: targets carry an already checked and
  pinned IP address (``sites.probes.addresses.resolve_once``), and the caller (the Celery task)
  limits how often it runs. The address is used exactly as given.

Pure standard library. Run it on an asyncio loop that supports ``add_reader`` (the default loop
on Linux and macOS, not Windows' proactor loop), e.g. from synchronous code with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import select
import selectors
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import TypeGuard

from sites.probes.addresses import parse_address

MAX_LINE = 256  # bytes, newline included (docs/probe-protocol.md)
_PREFIX = b"OBM-PROBE 1 "
# Tokens are <run_id>.<expires>.<nonce>.<mac> (digits, base64url and dots); accept any visible
# ASCII so a future token format still works, but never whitespace, which would change the line.
_TOKEN = re.compile(r"[\x21-\x7e]+", re.ASCII)
_MAX_TOKEN = MAX_LINE - len(_PREFIX) - 1


class Outcome(StrEnum):
    """What one check established. Only PROVEN is a proof that the path is open."""

    PROVEN = "proven"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    MISMATCH = "mismatch"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class InboundTarget:
    """One port to prove: an IP address (already checked and pinned), port, protocol, token.

    ``address`` may be given as an IP literal string; it is parsed, never resolved. ``token`` may
    be None when :func:`check_inbound` gets a ``token_for``.
    """

    address: IPv4Address | IPv6Address
    port: int
    protocol: str  # "tcp" or "udp"
    token: str | None = None

    def __post_init__(self) -> None:
        address = self.address
        if isinstance(address, str):
            # Strict, never resolved: a name or an odd form is a ValueError (resolve_once first).
            address = parse_address(address)
            object.__setattr__(self, "address", address)
        if not isinstance(address, IPv4Address | IPv6Address):
            raise ValueError(f"address must be an IP address, not {address!r}")
        if isinstance(address, IPv6Address) and address.scope_id:
            raise ValueError(f"address must not carry a zone id: {address}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValueError(f"port must be an int, not {self.port!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port out of range: {self.port}")
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"protocol must be 'tcp' or 'udp', not {self.protocol!r}")
        if self.token is not None and not valid_token(self.token):
            raise ValueError("token must be 1-243 visible ASCII characters")


@dataclass(frozen=True, slots=True)
class InboundResult:
    """The outcome of one target, a short human-readable detail, and how long it took."""

    target: InboundTarget
    outcome: Outcome
    detail: str
    elapsed_ms: float

    @property
    def proven(self) -> bool:
        return self.outcome is Outcome.PROVEN


def valid_token(token: object) -> TypeGuard[str]:
    """Whether ``token`` can go on a protocol line (visible ASCII, fits in 256 bytes)."""
    return isinstance(token, str) and len(token) <= _MAX_TOKEN and bool(_TOKEN.fullmatch(token))


async def check_inbound(
    targets: Sequence[InboundTarget],
    *,
    token_for: Callable[[InboundTarget], str] | None = None,
    concurrency: int = 500,
    connect_timeout: float = 3.0,
    answer_timeout: float | None = None,
    udp_timeout: float = 2.0,
    udp_retries: int = 2,
) -> list[InboundResult]:
    """Check every target; return one result per target, in order.

    ``token_for(target)`` gives the token to send (default: ``target.token``). TCP waits up to
    ``connect_timeout`` for the connection and then up to ``answer_timeout`` (default: the same)
    for the answer line. UDP sends the line up to ``1 + udp_retries`` times, waiting
    ``udp_timeout`` after each. See the module docstring for what each outcome means. If the
    caller is cancelled, every socket still open is closed before the cancellation propagates.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, not {concurrency!r}")
    if answer_timeout is None:
        answer_timeout = connect_timeout
    for name, value in (
        ("connect_timeout", connect_timeout),
        ("answer_timeout", answer_timeout),
        ("udp_timeout", udp_timeout),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    if isinstance(udp_retries, bool) or not isinstance(udp_retries, int) or udp_retries < 0:
        raise ValueError(f"udp_retries must be a non-negative int, not {udp_retries!r}")
    for target in targets:
        if not isinstance(target, InboundTarget):
            raise ValueError(f"not an InboundTarget: {target!r}")
    if not targets:
        return []
    run = _Run(
        asyncio.get_running_loop(),
        list(targets),
        token_for,
        concurrency,
        connect_timeout=float(connect_timeout),
        answer_timeout=float(answer_timeout),
        udp_timeout=float(udp_timeout),
        udp_retries=udp_retries,
    )
    try:
        run.start()
        await run.finished
    finally:
        run.abandon()  # stops the sweep; after a cancellation, also closes the open sockets
    return run.results  # type: ignore[return-value]  # every slot is filled by now


# ---------------------------------------------------------------------------------------------
# How a run works. Each probe is a small state machine on a plain non-blocking socket: no task,
# future or transport per target. The run's sockets are watched by one poller of its own (epoll on
# Linux), whose single descriptor the event loop watches; one periodic sweep enforces every
# deadline. That keeps the cost per target to a few system calls, which is what lets one worker
# fan out to thousands of targets (bench/fanout.py). When a probe finishes, the next target starts
# in its place, so at most `concurrency` sockets are ever open.

_CONNECTING, _AWAITING_ANSWER, _AWAITING_DATAGRAM = "connecting", "awaiting answer", "datagram"
_NONBLOCKING = getattr(socket, "SOCK_NONBLOCK", 0)  # one system call fewer where it exists
_ABORT_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


class _EpollPoller:
    """Readiness of many sockets through one epoll descriptor (Linux)."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._read = select.EPOLLIN
        self._write = select.EPOLLOUT

    def fileno(self) -> int:
        return self._epoll.fileno()

    def watch(self, fd: int, *, readable: bool, known: bool) -> None:
        events = self._read if readable else self._write
        if known:
            self._epoll.modify(fd, events)
        else:
            self._epoll.register(fd, events)

    def forget(self, fd: int) -> None:
        """Nothing to do: closing the socket, which follows at once, removes it from the epoll
        set (the run holds the only descriptor of each socket), and saves a system call per
        probe."""

    def ready(self) -> list[tuple[int, int]]:
        return self._epoll.poll(0)

    def close(self) -> None:
        self._epoll.close()


class _SelectorPoller:
    """The same through the ``selectors`` module, where there is no epoll (e.g. kqueue)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()

    def fileno(self) -> int:
        return self._selector.fileno()

    def watch(self, fd: int, *, readable: bool, known: bool) -> None:
        events = selectors.EVENT_READ if readable else selectors.EVENT_WRITE
        if known:
            self._selector.modify(fd, events)
        else:
            self._selector.register(fd, events)

    def forget(self, fd: int) -> None:
        self._selector.unregister(fd)

    def ready(self) -> list[tuple[int, int]]:
        return [(key.fd, events) for key, events in self._selector.select(0)]

    def close(self) -> None:
        self._selector.close()


def _new_poller() -> _EpollPoller | _SelectorPoller:
    return _EpollPoller() if hasattr(select, "epoll") else _SelectorPoller()


class _Probe:
    __slots__ = (
        "index",
        "target",
        "sock",
        "fd",
        "phase",
        "deadline",
        "started",
        "line",
        "expected",
        "unsent",
        "buffer",
        "attempts",
    )

    def __init__(self, index: int, target: InboundTarget, line: bytes, expected: bytes) -> None:
        self.index = index
        self.target = target
        self.line = line
        self.expected = expected
        self.sock: socket.socket | None = None
        self.fd = -1
        self.phase: str | None = None  # None until the poller watches the socket
        self.deadline = 0.0
        self.started = time.perf_counter()
        self.unsent = line
        self.buffer = b""
        self.attempts = 0


class _Run:
    """One call of check_inbound: starts probes up to the concurrency limit and collects results."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        targets: list[InboundTarget],
        token_for: Callable[[InboundTarget], str] | None,
        concurrency: int,
        *,
        connect_timeout: float,
        answer_timeout: float,
        udp_timeout: float,
        udp_retries: int,
    ) -> None:
        self.loop = loop
        self.targets = targets
        self.token_for = token_for
        self.concurrency = concurrency
        self.connect_timeout = connect_timeout
        self.answer_timeout = answer_timeout
        self.udp_timeout = udp_timeout
        self.udp_attempts = 1 + udp_retries
        self.results: list[InboundResult | None] = [None] * len(targets)
        self.remaining = len(targets)
        self.next_index = 0
        self.in_flight: dict[int, _Probe] = {}  # by file descriptor
        self.finished: asyncio.Future[None] = loop.create_future()
        self.starting = False
        self.poller = _new_poller()
        self.lines: dict[str, tuple[bytes, bytes]] = {}  # token -> (line to send, answer wanted)
        self.hosts: dict[IPv4Address | IPv6Address, str] = {}  # address -> its text, once
        # Deadlines are checked by one sweep; it runs often enough that a timeout fires at most
        # a twentieth of the shortest limit (and never more than 50 ms) late.
        shortest = min(connect_timeout, answer_timeout, udp_timeout)
        self.sweep_interval = min(max(shortest / 20, 0.002), 0.05)
        self.sweeper: asyncio.TimerHandle | None = None

    # -- scheduling

    def start(self) -> None:
        self.loop.add_reader(self.poller.fileno(), self.on_ready)
        self.sweeper = self.loop.call_later(self.sweep_interval, self.sweep)
        self.start_more()

    def start_more(self) -> None:
        """Fill the free slots. A loop, not recursion: probes that end at once are just counted."""
        if self.starting:
            return  # already filling, further up the stack
        self.starting = True
        try:
            while len(self.in_flight) < self.concurrency and self.next_index < len(self.targets):
                index = self.next_index
                self.next_index += 1
                self.begin(index, self.targets[index])
        finally:
            self.starting = False
        if self.remaining == 0 and not self.finished.done():
            self.finished.set_result(None)

    def begin(self, index: int, target: InboundTarget) -> None:
        started = time.perf_counter()
        try:
            token = self.token_for(target) if self.token_for is not None else target.token
        except Exception as exc:  # the caller's function: report it, do not abort the run
            self.record(
                index,
                target,
                Outcome.ERROR,
                f"token_for failed: {type(exc).__name__}: {exc}",
                started,
            )
            return
        # A run usually sends one token to many targets: check and encode it once.
        lines = self.lines.get(token) if isinstance(token, str) else None
        if lines is None:
            if not valid_token(token):
                problem = "token unusable on a line" if token is not None else "no token"
                self.record(index, target, Outcome.ERROR, f"{problem} for this target", started)
                return
            encoded = token.encode("ascii")
            lines = self.lines[token] = (_PREFIX + encoded + b"\n", b"OK " + encoded)
        probe = _Probe(index, target, *lines)
        try:
            if target.protocol == "tcp":
                self.begin_tcp(probe)
            else:
                self.begin_udp(probe)
        except Exception as exc:
            self.fail(probe, exc)

    def on_ready(self) -> None:
        """The poller's descriptor is readable: handle every socket that is ready."""
        for fd, _ in self.poller.ready():
            probe = self.in_flight.get(fd)
            if probe is None:
                continue  # finished earlier in this batch
            try:
                if probe.phase == _CONNECTING:
                    self.on_writable(probe)
                elif probe.phase == _AWAITING_ANSWER:
                    self.on_readable(probe)
                else:
                    self.on_datagram(probe)
            except Exception as exc:
                self.fail(probe, exc)

    def record(
        self, index: int, target: InboundTarget, outcome: Outcome, detail: str, started: float
    ) -> None:
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        self.results[index] = InboundResult(target, outcome, detail, elapsed)
        self.remaining -= 1

    def finish(self, probe: _Probe, outcome: Outcome, detail: str) -> None:
        """Record the probe's result, close its socket, and start the next target in its place."""
        self.release(probe)
        self.record(probe.index, probe.target, outcome, detail, probe.started)
        self.start_more()

    def release(self, probe: _Probe) -> None:
        if probe.sock is None:
            return
        # Unregister before closing: the descriptor number is reused by the next socket at once.
        if self.in_flight.pop(probe.fd, None) is not None and probe.phase is not None:
            self.poller.forget(probe.fd)
        if probe.target.protocol == "tcp":
            # Close with a reset, as nmap -sT does: the outcome is known and the exchange over,
            # and neither end keeps a TIME_WAIT entry for it, which matters when one worker
            # probes thousands of ports (without it, 10,000 probes leave 10,000 behind).
            with contextlib.suppress(OSError):  # the socket is closed below either way
                probe.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT_ON_CLOSE)
        probe.sock.close()
        probe.sock = None

    def fail(self, probe: _Probe, exc: BaseException) -> None:
        if isinstance(exc, ConnectionRefusedError):
            if probe.target.protocol == "udp":
                self.finish(
                    probe,
                    Outcome.REFUSED,
                    "ICMP port unreachable: nothing listens on this UDP port",
                )
            else:
                self.finish(probe, Outcome.REFUSED, "connection refused")
        elif isinstance(exc, OSError):
            self.finish(probe, Outcome.ERROR, f"{type(exc).__name__}: {exc.strerror or exc}")
        else:  # a bug here must not hang the run: report it on this target
            self.finish(probe, Outcome.ERROR, f"internal error: {type(exc).__name__}: {exc}")

    def watch(self, probe: _Probe, phase: str, timeout: float) -> None:
        """Enter ``phase``: wait for the socket to be writable (connecting) or readable."""
        known = probe.phase is not None
        probe.phase = phase
        probe.deadline = time.monotonic() + timeout
        self.poller.watch(probe.fd, readable=phase != _CONNECTING, known=known)

    def open_socket(
        self,
        probe: _Probe,
        kind: int,
    ) -> tuple[socket.socket, tuple[str, int] | tuple[str, int, int, int]]:
        """The probe's new non-blocking socket, and the target's address in its family's form."""
        address = probe.target.address
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = probe.sock = socket.socket(family, kind | _NONBLOCKING)
        if not _NONBLOCKING:
            sock.setblocking(False)
        probe.fd = sock.fileno()
        self.in_flight[probe.fd] = probe
        host = self.hosts.get(address)
        if host is None:
            host = self.hosts[address] = str(address)
        if family == socket.AF_INET6:
            return sock, (host, probe.target.port, 0, 0)
        return sock, (host, probe.target.port)

    # -- TCP: connect, send the line, read one answer line

    def begin_tcp(self, probe: _Probe) -> None:
        sock, sockaddr = self.open_socket(probe, socket.SOCK_STREAM)
        error = sock.connect_ex(sockaddr)
        if error not in (0, errno.EINPROGRESS):
            raise OSError(error, os.strerror(error))
        # Send at once: when the handshake is already done (a near or fast path) this saves a
        # wait; otherwise the send would block and we wait for the socket to become writable.
        if self.send_line(probe):
            self.watch(probe, _AWAITING_ANSWER, self.answer_timeout)
        else:
            self.watch(probe, _CONNECTING, self.connect_timeout)

    def send_line(self, probe: _Probe) -> bool:
        """Send what is left of the line; True when all of it went. Raises on a failed connect."""
        assert probe.sock is not None  # open from begin_* until release
        try:
            sent = probe.sock.send(probe.unsent)
        except BlockingIOError:
            return False
        probe.unsent = probe.unsent[sent:]
        return not probe.unsent

    def on_writable(self, probe: _Probe) -> None:
        assert probe.sock is not None  # open from begin_* until release
        error = probe.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error == errno.ECONNREFUSED:
            raise ConnectionRefusedError(error, os.strerror(error))
        if error:
            raise OSError(error, os.strerror(error))
        if self.send_line(probe):
            self.watch(probe, _AWAITING_ANSWER, self.answer_timeout)

    def on_readable(self, probe: _Probe) -> None:
        assert probe.sock is not None  # open from begin_* until release
        try:
            data = probe.sock.recv(MAX_LINE + 1 - len(probe.buffer))
        except BlockingIOError:
            return
        except (ConnectionResetError, BrokenPipeError):
            if not probe.buffer:
                self.finish(probe, Outcome.MISMATCH, "connected, then reset without an answer")
            else:
                self.finish(probe, *_judge(probe.buffer, probe.expected))
            return
        probe.buffer += data
        if not data or b"\n" in probe.buffer or len(probe.buffer) > MAX_LINE:
            self.finish(probe, *_judge(probe.buffer, probe.expected))

    # -- UDP: send the line as a datagram, wait for the answer datagram, retry

    def begin_udp(self, probe: _Probe) -> None:
        sock, sockaddr = self.open_socket(probe, socket.SOCK_DGRAM)
        sock.connect(sockaddr)  # connected: the kernel delivers only the target's datagrams
        self.send_datagram(probe)

    def send_datagram(self, probe: _Probe) -> None:
        assert probe.sock is not None  # open from begin_udp until release
        probe.attempts += 1
        probe.sock.send(probe.line)
        if probe.attempts == 1:
            self.watch(probe, _AWAITING_DATAGRAM, self.udp_timeout)
        else:
            probe.deadline = time.monotonic() + self.udp_timeout

    def on_datagram(self, probe: _Probe) -> None:
        assert probe.sock is not None  # open from begin_* until release
        try:
            answer = probe.sock.recv(MAX_LINE + 1)
        except BlockingIOError:
            return
        self.finish(probe, *_judge(answer, probe.expected))

    # -- deadlines

    def sweep(self) -> None:
        now = time.monotonic()
        for probe in [p for p in self.in_flight.values() if p.deadline <= now]:
            try:
                self.expire(probe)
            except Exception as exc:
                self.fail(probe, exc)
        self.sweeper = self.loop.call_later(self.sweep_interval, self.sweep)

    def expire(self, probe: _Probe) -> None:
        if probe.phase == _CONNECTING:
            self.finish(probe, Outcome.TIMEOUT, f"no connection within {self.connect_timeout:g} s")
        elif probe.phase == _AWAITING_ANSWER:
            if probe.buffer:
                self.finish(
                    probe,
                    Outcome.MISMATCH,
                    f"incomplete answer {_shown(probe.buffer)} within {self.answer_timeout:g} s",
                )
            else:
                self.finish(
                    probe,
                    Outcome.TIMEOUT,
                    f"connected, but no answer within {self.answer_timeout:g} s",
                )
        elif probe.attempts < self.udp_attempts:
            self.send_datagram(probe)
        else:
            plural = "s" if probe.attempts > 1 else ""
            self.finish(
                probe,
                Outcome.TIMEOUT,
                f"no answer to {probe.attempts} datagram{plural} "
                f"({self.udp_timeout:g} s each): not proven",
            )

    def abandon(self) -> None:
        """Stop watching and close every socket still open (all of them after a cancellation)."""
        if self.sweeper is not None:
            self.sweeper.cancel()
            self.sweeper = None
        for probe in list(self.in_flight.values()):
            self.release(probe)
        self.loop.remove_reader(self.poller.fileno())
        self.poller.close()


def _judge(answer: bytes, expected: bytes) -> tuple[Outcome, str]:
    """PROVEN only for exactly one line ``OK <token>``; everything else is a MISMATCH."""
    if not answer:
        return Outcome.MISMATCH, "connected, then closed without an answer"
    if len(answer) > MAX_LINE:
        return Outcome.MISMATCH, f"answer longer than {MAX_LINE} bytes: {_shown(answer)}"
    if answer in (expected + b"\n", expected + b"\r\n"):
        return Outcome.PROVEN, "answered with the token"
    if not answer.endswith(b"\n"):
        return Outcome.MISMATCH, f"incomplete answer {_shown(answer)}"
    return Outcome.MISMATCH, f"answered {_shown(answer)}"


def _shown(data: bytes) -> str:
    """An answer as it can be shown and stored safely: ASCII-escaped, at most 80 characters."""
    text = repr(data[:80].decode("ascii", "backslashreplace"))
    return text + ("…" if len(data) > 80 else "")
