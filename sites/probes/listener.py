"""A minimal listen-mode answerer for the inbound probe protocol, for tests and benchmarks.

The customer-side client (what runs on the backup host) is written elsewhere; this is the smallest
thing that answers the inbound half of docs/probe-protocol.md, so the inbound checker can be tested
and benchmarked against real sockets:

```
portal:  OBM-PROBE 1 <token>
here:    OK <token>          when <token> is the one this listener was started with
   or    ERR MISMATCH        for any other line
```

TCP: one line per connection, answered, then the connection is closed; a line longer than 256
bytes, or no line within ``idle_timeout`` seconds, closes the connection unanswered. UDP: each
datagram is one line and gets one answer datagram to its source.

It runs on the caller's asyncio loop, but with plain sockets watched by one selector of its own
rather than with transports: an accepted connection whose line has already arrived is answered
and closed in the same callback, so a benchmark measures the checker rather than this fixture. It
binds loopback addresses only (127.0.0.0/8, ::1) and refuses anything else: it is a test
fixture, not a service.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import selectors
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from ipaddress import ip_address

MAX_LINE = 256  # bytes, newline included (docs/probe-protocol.md)
_DATAGRAMS_PER_WAKEUP = 64  # share the loop fairly between many sockets
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_OUT_OF_FILES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def answer_for(line: bytes, token: str) -> bytes:
    """The listener's answer to one received line (with or without its line ending)."""
    if line.endswith(b"\r\n"):
        line = line[:-2]
    elif line.endswith(b"\n"):
        line = line[:-1]
    if line == b"OBM-PROBE 1 " + token.encode("ascii"):
        return b"OK " + token.encode("ascii") + b"\n"
    return b"ERR MISMATCH\n"


@dataclass
class _Waiting:
    """An accepted TCP connection whose line has not fully arrived yet."""

    sock: socket.socket
    deadline: float
    buffer: bytes = b""


@dataclass
class RunningListener:
    """Handle on a started listener: the ports it actually bound, and how to stop it."""

    host: str
    token: str
    idle_timeout: float
    tcp_ports: list[int] = field(default_factory=list)
    udp_ports: list[int] = field(default_factory=list)
    answered: int = 0
    _loop: asyncio.AbstractEventLoop = field(kw_only=True, repr=False)
    # Every socket is watched by this selector, whose one descriptor the event loop watches.
    _selector: selectors.DefaultSelector = field(
        default_factory=selectors.DefaultSelector, repr=False
    )
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)  # bound ones
    _waiting: dict[int, _Waiting] = field(default_factory=dict, repr=False)
    _sweeper: asyncio.TimerHandle | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        request = b"OBM-PROBE 1 " + self.token.encode("ascii")
        self._requests = (request + b"\n", request + b"\r\n")
        self._ok = b"OK " + self.token.encode("ascii") + b"\n"

    def _on_ready(self) -> None:
        for key, _ in self._selector.select(0):
            key.data()

    def _watch(self, sock: socket.socket, callback: Callable[[], None]) -> None:
        self._selector.register(sock, selectors.EVENT_READ, callback)

    # -- TCP

    def _on_acceptable(self, server: socket.socket) -> None:
        # One connection per wakeup: the selector reports the socket again while more are
        # pending (level triggered), and a second accept() would mostly fail with EAGAIN.
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno in _OUT_OF_FILES:  # back off instead of spinning
                self._selector.unregister(server)
                self._loop.call_later(0.1, self._resume, server)
            return  # e.g. ECONNABORTED: the next wakeup goes on
        if not _DONTWAIT:
            conn.setblocking(False)
        self._on_connection(conn, None)

    def _resume(self, server: socket.socket) -> None:
        if server.fileno() != -1:
            self._watch(server, partial(self._on_acceptable, server))

    def _on_connection(self, conn: socket.socket, waiting: _Waiting | None) -> None:
        """Read what is there; answer and close at the end of the line (usually at once)."""
        buffer = waiting.buffer if waiting is not None else b""
        try:
            # MSG_DONTWAIT: the accepted socket stays in blocking mode (one system call fewer),
            # and this read still never blocks.
            data = conn.recv(MAX_LINE + 1 - len(buffer), _DONTWAIT)
        except BlockingIOError:
            data = None
        except OSError:
            data = b""
        if data:
            buffer += data
        end = buffer.find(b"\n")
        if data is None or (data and end == -1 and len(buffer) < MAX_LINE):
            if waiting is None:  # wait for (the rest of) the line
                waiting = _Waiting(conn, time.monotonic() + self.idle_timeout)
                conn.setblocking(False)
                self._waiting[conn.fileno()] = waiting
                self._watch(conn, partial(self._on_connection, conn, waiting))
            waiting.buffer = buffer
            return
        if 0 <= end < MAX_LINE:  # a whole line of at most 256 bytes: answer it
            self.answered += 1
            with contextlib.suppress(OSError):  # the prober went away; nothing to tell it
                conn.send(self._answer(buffer[: end + 1]), _DONTWAIT)
        self._drop(conn)

    def _answer(self, line: bytes) -> bytes:
        """answer_for(line, self.token), from bytes prepared once."""
        return self._ok if line in self._requests else b"ERR MISMATCH\n"

    def _drop(self, conn: socket.socket) -> None:
        if self._waiting.pop(conn.fileno(), None) is not None:
            self._selector.unregister(conn)
        conn.close()

    def _sweep(self) -> None:
        now = time.monotonic()
        for waiting in [w for w in self._waiting.values() if w.deadline <= now]:
            self._drop(waiting.sock)
        self._sweeper = self._loop.call_later(self._sweep_interval, self._sweep)

    @property
    def _sweep_interval(self) -> float:
        return min(max(self.idle_timeout / 4, 0.01), 1.0)

    # -- UDP

    def _on_datagram(self, sock: socket.socket) -> None:
        for _ in range(_DATAGRAMS_PER_WAKEUP):
            try:
                data, source = sock.recvfrom(MAX_LINE + 1)
            except BlockingIOError:
                return
            except OSError:
                continue  # e.g. an ICMP error from an earlier answer
            if len(data) <= MAX_LINE:
                self.answered += 1
                with contextlib.suppress(OSError):  # the source is gone: nothing to answer
                    sock.sendto(answer_for(data, self.token), source)  # as sent, \n or not

    # -- lifecycle

    async def close(self) -> None:
        """Stop listening and drop open connections; every socket is closed when this returns."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for waiting in list(self._waiting.values()):
            self._drop(waiting.sock)
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        if self._selector.get_map() is not None:
            self._loop.remove_reader(self._selector.fileno())
            self._selector.close()

    async def __aenter__(self) -> RunningListener:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def serve_listener(
    host: str,
    ports_tcp: Iterable[int],
    ports_udp: Iterable[int],
    token: str,
    *,
    idle_timeout: float = 10.0,
    backlog: int = 128,
) -> RunningListener:
    """Start answering on ``host`` (loopback only) on the given TCP and UDP ports.

    Port 0 binds a free port; the bound ports are in the result's ``tcp_ports``/``udp_ports``, in
    the order given. Use the result as an async context manager, or call ``close()``. If one
    port cannot be bound, everything already bound is closed and the OSError propagates.
    """
    if not ip_address(host).is_loopback:
        raise ValueError(f"the reference listener binds loopback addresses only, not {host}")
    token.encode("ascii")  # the protocol is ASCII; fail here, not on the first probe
    loop = asyncio.get_running_loop()
    listener = RunningListener(host=host, token=token, idle_timeout=idle_timeout, _loop=loop)
    loop.add_reader(listener._selector.fileno(), listener._on_ready)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        for port in ports_tcp:
            server = socket.create_server((host, port), family=family, backlog=backlog)
            listener._sockets.append(server)
            server.setblocking(False)
            listener._watch(server, partial(listener._on_acceptable, server))
            listener.tcp_ports.append(server.getsockname()[1])
        for port in ports_udp:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            listener._sockets.append(sock)
            sock.setblocking(False)
            sock.bind((host, port))
            listener._watch(sock, partial(listener._on_datagram, sock))
            listener.udp_ports.append(sock.getsockname()[1])
    except BaseException:
        await listener.close()
        raise
    listener._sweeper = loop.call_later(listener._sweep_interval, listener._sweep)
    return listener
