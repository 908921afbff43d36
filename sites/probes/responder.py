"""The probe responder: the asyncio service that answers ``OBM-PROBE 1 <token>`` on the profile's
ports and records what it saw (docs/probe-protocol.md, "Outbound").

What it promises:

- every probe gets one answer: ``OK …`` with a signed receipt, or ``ERR <CODE> …``; over TCP the
  connection is then closed, over UDP the answer is one datagram to the source;
- a token proves each (port, protocol) once: a second use there is REPLAYED, while the same token
  is still good on another port or protocol;
- every answer, and every connection that ends without one, becomes one :class:`Observation`
  handed to the sink; the sink is called from the event loop and must not block;
- nothing a client does grows memory without bound or holds a slot for ever: lines are at most
  ``line_limit`` bytes, a line must be complete within ``read_timeout`` seconds of connecting,
  at most ``max_connections`` TCP connections are open and at most ``max_connections_per_source``
  from one source (see :func:`rate_key`); when every slot is taken, a newcomer takes the oldest
  idle connection of the source holding the most, if that source holds more than the newcomer's
  would after; otherwise it is reset at once. The per-source rate limiter and the replay cache
  have hard caps, and :class:`BatchingSink` drops (and counts)
  rather than queue without end;
- :meth:`ProbeResponder.stop` stops accepting, lets the connections in flight finish, then
  flushes the sink.

TCP is served from the listening socket's reader callback rather than through asyncio transports:
a probe's line has nearly always arrived by the time its connection is accepted, so it is
answered and closed right there, without the transport, task and event-loop registration asyncio
would set up per connection (that is most of the cost of a handshake). Connections still waiting
for their line get a reader and a deadline. UDP uses an ordinary asyncio datagram endpoint.

Standard library only (uvloop when importable, via :func:`run`); no Django here: the portal
provides the sink (its ORM writes) and the key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import heapq
import ipaddress
import logging
import signal
import socket
import struct
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, overload

from sites.probes.protocol import (
    MAX_LINE_BYTES,
    ErrorCode,
    ProtocolError,
    format_err,
    format_ok,
    parse_request,
)
from sites.probes.tokens import TokenError, receipt_mac, verify_token

log = logging.getLogger(__name__)

# Outcomes of an Observation besides the ErrorCode values. OK is an accepted probe. The other two
# are recorded but are not wire codes: NO_LINE is a connection that ended (client closed, or
# read_timeout) before a complete line (it is answered ERR MALFORMED if still open); BUSY is a
# connection reset for want of a slot, on arrival or shed later for a fairer newcomer (no answer).
OK = "ok"
NO_LINE = "NO_LINE"
BUSY = "BUSY"

Proto = Literal["tcp", "udp"]
LINGER_SECONDS = 1.0  # how long a client cut off mid-line may go on sending after its answer


@dataclass(frozen=True, slots=True)
class Observation:
    """One probe, or one refusal, as the responder saw it.

    ``run_id`` is set only when the token's signature verified (so it can be trusted); ``port``
    is the responder's own port the probe arrived on; ``observed_ip``/``observed_port`` the
    source as seen (after any NAT on the way; IPv4-mapped IPv6 shown as IPv4); ``received_at``
    the Unix time (``int(received_at)`` is the ``<unix_time>`` the receipt signs); ``outcome``
    "ok", an :class:`ErrorCode`, NO_LINE or BUSY; ``receipt`` the receipt MAC when "ok".
    """

    run_id: int | None
    port: int
    protocol: str
    observed_ip: str
    observed_port: int
    received_at: float
    outcome: str
    receipt: str = ""


class ObservationSink(Protocol):
    """Where observations go. ``record`` runs on the event loop: it must return at once."""

    def record(self, observation: Observation) -> None: ...

    async def flush(self) -> None:
        """Return once everything recorded so far has been handed on (or counted as lost)."""
        ...


class MemorySink:
    """Keeps observations in a list (tests and benchmarks)."""

    def __init__(self) -> None:
        self.observations: list[Observation] = []

    def record(self, observation: Observation) -> None:
        self.observations.append(observation)

    async def flush(self) -> None:
        return None


class BatchingSink:
    """Hands observations to ``write_batch`` in batches, in a worker thread, in order.

    A batch goes when ``max_batch`` observations are waiting or ``max_delay`` seconds after the
    first one arrived. ``write_batch`` (e.g. a database ``bulk_create``) runs through
    :func:`asyncio.to_thread`, one call at a time, so a slow database never blocks the event loop.
    At most ``max_queue`` observations wait; beyond that new ones are dropped and counted in
    ``dropped`` (a flood must not exhaust memory). A ``write_batch`` that raises loses its batch,
    counted in ``failed`` and logged; the sink goes on. :meth:`flush` writes everything waiting.

    Counters: ``written``, ``dropped``, ``failed``. Not thread-safe: call ``record`` from the
    event loop only.
    """

    def __init__(
        self,
        write_batch: Callable[[list[Observation]], None],
        *,
        max_batch: int = 500,
        max_delay: float = 0.2,
        max_queue: int = 50_000,
    ):
        if max_batch < 1 or max_queue < 1 or max_delay < 0:
            raise ValueError("max_batch and max_queue must be >= 1, max_delay >= 0")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._max_queue = max_queue
        self._queue: collections.deque[Observation] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushing = False
        self.written = 0
        self.dropped = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        """Observations recorded but not yet handed to ``write_batch``."""
        return len(self._queue)

    def record(self, observation: Observation) -> None:
        queue = self._queue
        if len(queue) >= self._max_queue:
            self.dropped += 1
            if self.dropped % 10_000 == 1:
                log.warning("probe observations: queue full, %d dropped so far", self.dropped)
            return
        queue.append(observation)
        if self._task is None:
            # The drain task exists only while there is work, so an idle sink holds no task.
            self._task = asyncio.get_running_loop().create_task(self._drain())
        elif len(queue) == self._max_batch:
            self._wake.set()

    async def flush(self) -> None:
        self._flushing = True
        try:
            while self._task is not None:
                self._wake.set()
                # Shielded: a cancelled flush must not cancel a write half done.
                await asyncio.shield(self._task)
        finally:
            self._flushing = False

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                if len(queue) < self._max_batch and not self._flushing:
                    self._wake.clear()
                    with contextlib.suppress(
                        TimeoutError
                    ):  # waited long enough: write what there is
                        async with asyncio.timeout(self._max_delay):
                            await self._wake.wait()
                batch = [queue.popleft() for _ in range(min(len(queue), self._max_batch))]
                try:
                    await asyncio.to_thread(self._write_batch, batch)
                    self.written += len(batch)
                except Exception:
                    self.failed += len(batch)
                    log.exception("probe observations: write_batch failed, %d lost", len(batch))
        finally:
            self._task = None


class RateLimiter:
    """A token bucket per source: ``burst`` probes at once, refilled at ``per_second``.

    :meth:`acquire` takes one token. Memory is bounded: a source unseen for the time a bucket
    takes to refill completely is forgotten (losslessly: it would start full anyway), and beyond
    ``max_sources`` the least recently seen source is forgotten (counted in ``evicted``).
    """

    def __init__(
        self,
        burst: int,
        per_second: float,
        *,
        max_sources: int = 65_536,
        clock: Callable[[], float] = time.monotonic,
    ):
        if burst < 1 or per_second <= 0 or max_sources < 1:
            raise ValueError("burst and max_sources must be >= 1, per_second > 0")
        self.burst = burst
        self.per_second = per_second
        self.max_sources = max_sources
        self._clock = clock
        self._idle_after = burst / per_second
        # source -> [tokens, last seen, refusals in a row]; least recently seen first.
        self._buckets: collections.OrderedDict[str, list] = collections.OrderedDict()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, source: str) -> int:
        """0 if ``source`` may probe now (a token taken); otherwise the number of refusals in a
        row for it, so a caller can answer the first refusal only (UDP: no reflection)."""
        now = self._clock()
        buckets = self._buckets
        bucket = buckets.get(source)
        if bucket is None:
            self._make_room(now)
            buckets[source] = [self.burst - 1.0, now, 0]
            return 0
        buckets.move_to_end(source)
        tokens = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.per_second)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0], bucket[2] = tokens - 1.0, 0
            return 0
        bucket[0] = tokens
        bucket[2] += 1
        return bucket[2]

    def _make_room(self, now: float) -> None:
        buckets = self._buckets
        horizon = now - self._idle_after
        while buckets:
            oldest = next(iter(buckets))
            if buckets[oldest][1] > horizon:
                break
            del buckets[oldest]
        if len(buckets) >= self.max_sources:
            buckets.popitem(last=False)
            self.evicted += 1


class ReplayCache:
    """Which (run, nonce, port, protocol) have been proven, until their token expires.

    :meth:`use` says whether a key is new, and remembers it until ``expires`` has passed (then
    the token is refused as EXPIRED anyway). At most ``capacity`` keys are kept; beyond that the
    oldest is forgotten (counted in ``evicted``): keys come from verified tokens only, so the cap
    is reached only by genuine use, and should sit well above a token lifetime's worth of probes.
    """

    def __init__(self, capacity: int = 100_000):
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._entries: collections.OrderedDict[Hashable, int] = collections.OrderedDict()
        self._expiries: list[tuple[int, Hashable]] = []  # heap; may hold evicted keys' stale rows
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def use(self, key: Hashable, expires: int, now: float) -> bool:
        """True the first time ``key`` is used (and remember it); False for a replay."""
        self.expire(now)
        entries = self._entries
        if key in entries:
            return False
        if len(entries) >= self.capacity:
            entries.popitem(last=False)
            self.evicted += 1
        entries[key] = expires
        heapq.heappush(self._expiries, (expires, key))
        if len(self._expiries) > 2 * self.capacity:
            # Rows of evicted keys linger in the heap until they expire; drop them now and then.
            self._expiries = [(when, k) for k, when in entries.items()]
            heapq.heapify(self._expiries)
        return True

    def expire(self, now: float) -> None:
        """Forget keys whose token expired before ``now``."""
        heap, entries = self._expiries, self._entries
        while heap and heap[0][0] < now:
            expires, key = heapq.heappop(heap)
            if entries.get(key) == expires:
                del entries[key]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A socket the responder listens on, with the port actually bound."""

    host: str
    port: int
    protocol: Proto


def observed_address(host: str) -> str:
    """The address to record: an IPv4-mapped IPv6 address (dual-stack socket) as plain IPv4,
    and an IPv6 address without its ``%scope`` (an address field would refuse it)."""
    if host.startswith("::ffff:") and "." in host:
        return host[7:]
    return host.partition("%")[0]


def rate_key(ip: str) -> str:
    """What the rate limit counts by: the IPv4 address, or the IPv6 /64 (one site's subnet, so a
    host cannot dodge its limit by hopping addresses)."""
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.IPv6Network((ip.partition("%")[0], 64), strict=False))
    except ValueError:
        return ip


class ProbeResponder:
    """Answers probes on ``listeners`` ((host, port, "tcp"|"udp"); port 0 picks a free port, see
    :attr:`endpoints`) and records one :class:`Observation` per probe in ``sink``.

    ``key`` is the probe key the tokens were issued with; ``clock`` gives Unix time (token expiry,
    receipts, observations); ``rate_per_source`` is (burst, per second) per source address
    (see :func:`rate_key`), shared by all ports and both protocols; ``max_connections`` and
    ``max_connections_per_source`` bound the TCP connections waiting for their line.
    """

    def __init__(
        self,
        key: bytes,
        listeners: Iterable[tuple[str, int, Proto]],
        sink: ObservationSink,
        *,
        clock: Callable[[], float] = time.time,
        line_limit: int = MAX_LINE_BYTES,
        read_timeout: float = 5.0,
        max_connections: int = 1024,
        max_connections_per_source: int = 32,
        rate_per_source: tuple[int, float] = (60, 1.0),
        max_sources: int = 65_536,
        replay_capacity: int = 100_000,
        backlog: int = 1024,
    ):
        if not isinstance(key, bytes | bytearray) or not key:
            raise TypeError("the probe key must be non-empty bytes")
        self._listeners = [(host, int(port), proto) for host, port, proto in listeners]
        if not self._listeners:
            raise ValueError("at least one listener is needed")
        for _, _, proto in self._listeners:
            if proto not in ("tcp", "udp"):
                raise ValueError(f"listener protocol must be 'tcp' or 'udp', not {proto!r}")
        if line_limit < 16 or read_timeout <= 0 or max_connections < 1:
            raise ValueError("line_limit >= 16, read_timeout > 0, max_connections >= 1")
        if max_connections_per_source < 1:
            raise ValueError("max_connections_per_source must be >= 1")
        self._key = bytes(key)
        self._sink = sink
        self._clock = clock
        self.line_limit = line_limit
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.max_connections_per_source = max_connections_per_source
        self._backlog = backlog
        burst, per_second = rate_per_source
        self.rate_limiter = RateLimiter(burst, per_second, max_sources=max_sources)
        self.replay_cache = ReplayCache(replay_capacity)
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.endpoints: list[Endpoint] = []
        self._tcp_listeners: list[_TcpListener] = []
        self._datagram_transports: list[asyncio.DatagramTransport] = []
        # Slots held, oldest first: all of them, and per source (rate_key of the address).
        self._connections: dict[_TcpConnection, None] = {}
        self._connections_by_source: dict[str, dict[_TcpConnection, None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._drained = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None

    @property
    def active_connections(self) -> int:
        """TCP connections open and waiting for their line (or lingering)."""
        return len(self._connections)

    @property
    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The loop ``start`` bound the sockets on: listeners and connections exist only after."""
        assert self._loop is not None, "the responder is not started"
        return self._loop

    def endpoint(self, protocol: Proto, index: int = 0) -> Endpoint:
        """The ``index``-th endpoint of ``protocol`` (tests: the port actually bound)."""
        return [e for e in self.endpoints if e.protocol == protocol][index]

    async def start(self) -> None:
        """Bind every listener. Raises ``OSError`` (and binds nothing) if one cannot be bound."""
        if self._loop is not None:
            raise RuntimeError("the responder was already started")
        self._loop = loop = asyncio.get_running_loop()
        try:
            for host, port, proto in self._listeners:
                if proto == "tcp":
                    for sock in _listening_sockets(host, port, self._backlog):
                        listener = _TcpListener(self, sock)
                        self._tcp_listeners.append(listener)
                        bound = sock.getsockname()
                        self.endpoints.append(Endpoint(bound[0], bound[1], "tcp"))
                else:
                    transport, _ = await loop.create_datagram_endpoint(
                        lambda: _UdpProbe(self), local_addr=(host, port)
                    )
                    self._datagram_transports.append(transport)
                    bound = transport.get_extra_info("sockname")
                    self.endpoints.append(Endpoint(bound[0], bound[1], "udp"))
        except BaseException:
            self._close_listeners()
            raise
        for listener in self._tcp_listeners:
            listener.start()
        log.info(
            "probe responder listening on %s",
            ", ".join(f"{e.host}:{e.port}/{e.protocol}" for e in self.endpoints),
        )

    async def serve_forever(self) -> None:
        """Start if needed, then return once :meth:`stop` has finished."""
        if self._loop is None:
            await self.start()
        await self._stopped.wait()

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting, let connections in flight finish (each ends within ``read_timeout``;
        after ``grace`` seconds, default ``read_timeout + 1``, the rest are reset), then flush the
        sink. Safe to call more than once, and concurrently."""
        if self._stop_task is None:
            self._stop_task = asyncio.get_running_loop().create_task(self._stop(grace))
        await asyncio.shield(self._stop_task)

    async def _stop(self, grace: float | None) -> None:
        self._closing = True
        self._close_listeners()
        if self._connections:
            try:
                async with asyncio.timeout(self.read_timeout + 1 if grace is None else grace):
                    await self._drained.wait()
            except TimeoutError:
                log.warning("probe responder: resetting %d connections", len(self._connections))
                for connection in list(self._connections):
                    connection.close(reset=True)
        await self._sink.flush()
        self._stopped.set()
        log.info("probe responder stopped: %s", dict(self.outcomes))

    def _close_listeners(self) -> None:
        for listener in self._tcp_listeners:
            listener.close()
        for transport in self._datagram_transports:
            transport.close()

    # --- answering ------------------------------------------------------------------------

    def _record(self, observation: Observation) -> None:
        self.outcomes[observation.outcome] += 1
        try:
            self._sink.record(observation)
        except Exception:  # a faulty sink must not take the responder down
            log.exception("probe observation sink failed")

    @overload
    def answer(
        self,
        line: bytes,
        ip: str,
        source_port: int,
        port: int,
        proto: Proto,
        *,
        quiet: Literal[False] = False,
    ) -> bytes: ...

    @overload
    def answer(
        self,
        line: bytes,
        ip: str,
        source_port: int,
        port: int,
        proto: Proto,
        *,
        quiet: bool,
    ) -> bytes | None: ...

    def answer(
        self,
        line: bytes,
        ip: str,
        source_port: int,
        port: int,
        proto: Proto,
        *,
        quiet: bool = False,
    ) -> bytes | None:
        """Judge one request line from ``ip``:``source_port`` to our ``port``/``proto``, record
        it, and return the answer. With ``quiet`` (UDP), repeated RATE_LIMITED answers to one
        source are left out (None), so spoofed datagrams cannot turn us into a reflector."""
        now = self._clock()
        refusals = self.rate_limiter.acquire(rate_key(ip))
        run_id: int | None = None
        message: str | None = None
        token = ""
        try:
            token = parse_request(line, limit=self.line_limit)
            claims = verify_token(self._key, token, now)
            run_id = claims.run_id
            if refusals:
                code: ErrorCode | None = ErrorCode.RATE_LIMITED
            elif self.replay_cache.use(
                (claims.run_id, claims.nonce, port, proto), claims.expires, now
            ):
                code = None
            else:
                code = ErrorCode.REPLAYED
        except ProtocolError as error:
            code, message = error.code, error.message
        except TokenError as error:
            code, run_id = error.code, error.run_id
        if code is None:
            unix_time = int(now)
            receipt = receipt_mac(self._key, token, ip, source_port, port, proto, unix_time)
            self._record(Observation(run_id, port, proto, ip, source_port, now, OK, receipt))
            return format_ok(ip, source_port, port, proto, unix_time, receipt)
        if refusals:
            # Whatever else is wrong, a limited source is told only that (it is cheapest).
            code, message = ErrorCode.RATE_LIMITED, None
        self._record(Observation(run_id, port, proto, ip, source_port, now, str(code)))
        if quiet and refusals > 1:
            return None
        return format_err(code, message)

    def _no_line(self, ip: str, source_port: int, port: int, *, timed_out: bool) -> bytes:
        """Record a connection that ended without a complete line; return its answer."""
        self._record(Observation(None, port, "tcp", ip, source_port, self._clock(), NO_LINE))
        if timed_out:
            message = f"no complete line within {self.read_timeout:g} s"
        else:
            message = "no line before the end of the stream"
        return format_err(ErrorCode.MALFORMED, message)

    def _accepted(self, sock: socket.socket, peer: tuple, port: int) -> None:
        """A new TCP connection on our ``port``. Its line is usually here already (clients send
        right after connecting): then it is answered at once and needs no slot. Otherwise it
        takes a slot until its line is complete, or is reset if :meth:`_free_slot` finds none."""
        ip, source_port = observed_address(peer[0]), peer[1]
        try:
            # The accepted socket is blocking; MSG_DONTWAIT spares a syscall to change that.
            data = sock.recv(_READ_SIZE, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            data = None
        except OSError:  # reset before we read: there is nothing to answer
            self._record(Observation(None, port, "tcp", ip, source_port, self._clock(), NO_LINE))
            sock.close()
            return
        if data is not None:
            end = data.find(b"\n")
            if end >= 0:
                _send_and_close(sock, self.answer(data[: end + 1], ip, source_port, port, "tcp"))
                return
            if not data:  # end of stream before any byte
                _send_and_close(sock, self._no_line(ip, source_port, port, timed_out=False))
                return
        source = rate_key(ip)
        if data and len(data) >= self.line_limit:  # no newline within the limit
            reply = self.answer(data, ip, source_port, port, "tcp")
            if self._free_slot(source, shed=False):
                # Linger, so that what the client still sends does not reset the answer.
                connection = _TcpConnection(self, sock, ip, source, source_port, port, b"")
                connection.finish(reply, linger=True)
            else:
                _send_and_close(sock, reply)
        elif self._free_slot(source, shed=True):
            _TcpConnection(self, sock, ip, source, source_port, port, data or b"")
        else:
            # Refuse quickly: a reset costs nothing and the client learns at once.
            self._record(Observation(None, port, "tcp", ip, source_port, self._clock(), BUSY))
            _reset(sock)

    def _free_slot(self, source: str, *, shed: bool) -> bool:
        """Whether a connection from ``source`` may take a slot now. With every slot taken and
        ``shed``, make one free by resetting the oldest idle connection of the source holding
        the most, if it holds at least two more than ``source``: sources even out, and no
        source can push out another to hold more than it."""
        if self._closing:
            return False
        held = len(self._connections_by_source.get(source, ()))
        if held >= self.max_connections_per_source:
            return False
        if len(self._connections) < self.max_connections:
            return True
        if not shed:
            return False
        heaviest = max(self._connections_by_source.values(), key=len)
        if len(heaviest) < held + 2:
            return False
        for connection in heaviest:  # oldest first
            if connection.idle:
                connection.shed()
                return True
        return False


_READ_SIZE = 4096  # more than a line, so a client's extra bytes are read rather than reset
_ACCEPT_BATCH = 128  # connections accepted per wake-up, so datagrams and timers get their turn
_LINGER_ON = struct.pack("ii", 1, 0)  # SO_LINGER on with 0 s: close() resets


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ON)
    sock.close()


def _send_and_close(sock: socket.socket, reply: bytes) -> None:
    # A fresh socket's send buffer takes a line at once; if the peer is gone, so is the answer.
    with contextlib.suppress(OSError):
        sock.send(reply, socket.MSG_DONTWAIT)
    sock.close()


def _listening_sockets(host: str | None, port: int, backlog: int) -> list[socket.socket]:
    """Bound, listening, non-blocking TCP sockets for ``host`` (every address it resolves to)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    families = {info[0] for info in infos}
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and len(families) > 1:
                # Both families asked for: each socket its own (as asyncio does), or they clash.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class _TcpListener:
    """A listening socket, accepted from directly in a reader callback.

    asyncio's own servers build a transport, a task and an epoll registration per connection;
    a probe is one short line answered at once, so most connections need none of that.
    """

    def __init__(self, responder: ProbeResponder, sock: socket.socket):
        self._responder = responder
        self._sock = sock
        self._port = sock.getsockname()[1]
        self._closed = False
        self._reading = False

    def start(self) -> None:
        if not self._closed and not self._reading:
            self._responder._running_loop.add_reader(self._sock.fileno(), self._accept)
            self._reading = True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reading:
            self._responder._running_loop.remove_reader(self._sock.fileno())
            self._reading = False
        self._sock.close()

    def _accept(self) -> None:
        accept, responder, port = self._sock.accept, self._responder, self._port
        for _ in range(_ACCEPT_BATCH):
            try:
                sock, peer = accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors or memory: pause accepting for a moment, not spin.
                    log.error("probe responder: accept failed (%s); pausing for 1 s", error)
                    responder._running_loop.remove_reader(self._sock.fileno())
                    self._reading = False
                    responder._running_loop.call_later(1.0, self.start)
                    return
                continue  # the client gave up before we accepted (ECONNABORTED, …)
            try:
                responder._accepted(sock, peer, port)
            except Exception:  # a bug in one probe must not stop the accept loop
                log.exception("probe responder: unexpected error answering %s", peer)
                sock.close()


_READING, _LINGERING, _DONE = 0, 1, 2


class _TcpConnection:
    """A TCP connection whose line was not complete on arrival: read it, bounded in size and in
    time (one deadline for the whole line, so a byte a second cannot hold the slot), answer it,
    close."""

    __slots__ = (
        "_responder",
        "_sock",
        "_fd",
        "_ip",
        "_source",
        "_source_port",
        "_port",
        "_buffer",
        "_timer",
        "_state",
    )

    def __init__(
        self,
        responder: ProbeResponder,
        sock: socket.socket,
        ip: str,
        source: str,
        source_port: int,
        port: int,
        buffer: bytes,
    ):
        self._responder = responder
        self._sock = sock
        self._fd = sock.fileno()
        self._ip, self._source, self._source_port, self._port = ip, source, source_port, port
        self._buffer = buffer
        self._state = _READING
        sock.setblocking(False)
        responder._connections[self] = None
        responder._connections_by_source.setdefault(source, {})[self] = None
        loop = responder._running_loop
        loop.add_reader(self._fd, self._readable)
        self._timer: asyncio.TimerHandle = loop.call_later(responder.read_timeout, self._timed_out)

    def _readable(self) -> None:
        try:
            data = self._sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            if self._state == _READING:  # reset by the client
                self._responder._no_line(self._ip, self._source_port, self._port, timed_out=False)
            self.close()
            return
        if self._state != _READING:
            if not data:  # the lingering client read its answer and closed
                self.close()
            return
        if not data:  # end of stream: an unterminated last line is still a line
            if self._buffer:
                self._respond(self._buffer)
            else:
                self.finish(
                    self._responder._no_line(
                        self._ip, self._source_port, self._port, timed_out=False
                    )
                )
            return
        buffer = self._buffer + data
        end = buffer.find(b"\n")
        if end >= 0:
            self._respond(buffer[: end + 1])
        elif len(buffer) >= self._responder.line_limit:
            self._respond(buffer, linger=True)
        else:
            self._buffer = buffer

    def _respond(self, line: bytes, *, linger: bool = False) -> None:
        reply = self._responder.answer(line, self._ip, self._source_port, self._port, "tcp")
        self.finish(reply, linger=linger)

    def finish(self, reply: bytes, *, linger: bool = False) -> None:
        """Send ``reply`` and close. With ``linger`` (the client may still be sending), half-close
        and discard what still comes for a moment first: closing with unread data resets the
        connection, and the reset can destroy the answer before the client reads it."""
        with contextlib.suppress(OSError):
            self._sock.send(reply)
        if not linger:
            self.close()
            return
        self._state = _LINGERING
        self._timer.cancel()
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self._timer = self._responder._running_loop.call_later(LINGER_SECONDS, self.close, True)

    @property
    def idle(self) -> bool:
        """Still waiting for its line (not answered, not lingering after an answer)."""
        return self._state == _READING

    def shed(self) -> None:
        """Give the slot up for a newcomer: reset, recorded as BUSY."""
        responder = self._responder
        responder._record(
            Observation(
                None, self._port, "tcp", self._ip, self._source_port, responder._clock(), BUSY
            )
        )
        self.close(reset=True)

    def _timed_out(self) -> None:
        if self._state == _READING:
            reply = self._responder._no_line(
                self._ip, self._source_port, self._port, timed_out=True
            )
            self.finish(reply, linger=bool(self._buffer))  # a slow sender may still be sending
        else:
            self.close(reset=True)

    def close(self, reset: bool = False) -> None:
        if self._state == _DONE and self._sock.fileno() < 0:
            return
        self._state = _DONE
        self._timer.cancel()
        responder = self._responder
        responder._running_loop.remove_reader(self._fd)
        if reset:
            _reset(self._sock)
        else:
            self._sock.close()
        connections = responder._connections
        connections.pop(self, None)
        of_source = responder._connections_by_source.get(self._source)
        if of_source is not None:
            of_source.pop(self, None)
            if not of_source:
                del responder._connections_by_source[self._source]
        if responder._closing and not connections:
            responder._drained.set()


class _UdpProbe(asyncio.DatagramProtocol):
    """One UDP socket: each datagram is one request line, answered by one datagram."""

    def __init__(self, responder: ProbeResponder):
        self._responder = responder
        self._transport: asyncio.DatagramTransport | None = None
        self._port = 0
        self._paused = False

    def connection_made(self, transport) -> None:
        self._transport = transport
        self._port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        reply = self._responder.answer(
            data, observed_address(addr[0]), addr[1], self._port, "udp", quiet=True
        )
        # While the socket's send buffer is full, answers are dropped rather than queued: UDP
        # may lose them anyway, and a queue here would grow with a flood.
        if reply is not None and not self._paused and addr[1] != 0:
            assert self._transport is not None  # asyncio calls connection_made first
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier answer (the client went away): nothing to do.
        log.debug("probe responder UDP: %s", exc)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when uvloop is installed, else None (asyncio's default loop)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(
    responder: ProbeResponder,
    *,
    on_started: Callable[[ProbeResponder], None] | None = None,
) -> None:
    """Run ``responder`` in this (main) thread until SIGTERM or SIGINT, then stop it gracefully
    (in-flight probes answered, sink flushed) and return. ``on_started`` is called once it
    listens (e.g. to log :attr:`ProbeResponder.endpoints`). Uses uvloop when it is installed."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []

        def on_signal(signum: int) -> None:
            log.info("probe responder: %s, stopping", signal.Signals(signum).name)
            if not stopping:
                stopping.append(loop.create_task(responder.stop()))

        signals = (signal.SIGTERM, signal.SIGINT)
        for signum in signals:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            await responder.start()
            if on_started is not None:
                on_started(responder)
            await responder.serve_forever()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)

    asyncio.run(main(), loop_factory=event_loop_factory())
