"""The probe responder over real sockets on loopback, and the line protocol it speaks.

Every test binds port 0 on 127.0.0.1 and reads the bound port back. 127.0.0.2 and other
127/8 addresses serve as further sources (Linux answers for all of 127/8 on lo).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sites.probes.protocol import (
    ErrorCode,
    ErrReply,
    OkReply,
    ProtocolError,
    format_err,
    format_ok,
    format_request,
    parse_reply,
    parse_request,
)
from sites.probes.responder import (
    BUSY,
    NO_LINE,
    OK,
    BatchingSink,
    MemorySink,
    Observation,
    ProbeResponder,
    RateLimiter,
    ReplayCache,
    observed_address,
    rate_key,
)
from sites.probes.tokens import issue_token, verify_receipt

KEY = b"responder-test-key"
REPO = Path(__file__).resolve().parents[3]
LOCAL = "127.0.0.1"
OTHER_SOURCE = "127.0.0.2"


def token(run_id: int = 1, *, ttl: int = 3600, key: bytes = KEY) -> str:
    return issue_token(key, run_id, int(time.time()) + ttl)


def async_test(function):
    """Run an async test in a fresh event loop, with an overall deadline."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        async def bounded():
            async with asyncio.timeout(15):
                return await function(*args, **kwargs)

        return asyncio.run(bounded())

    return wrapper


@contextlib.asynccontextmanager
async def responding(listeners=((LOCAL, 0, "tcp"),), sink=None, **options):
    sink = sink if sink is not None else MemorySink()
    responder = ProbeResponder(KEY, listeners, sink, **options)
    await responder.start()
    try:
        yield responder
    finally:
        await responder.stop(grace=1.0)


async def tcp_probe(port: int, data: bytes, *, source: str = LOCAL, eof: bool = False):
    """Send ``data``, read to end of stream; return (answer, the client's source port)."""
    reader, writer = await asyncio.open_connection(LOCAL, port, local_addr=(source, 0))
    source_port = writer.get_extra_info("sockname")[1]
    try:
        writer.write(data)
        if eof:
            writer.write_eof()
        return await reader.read(), source_port
    finally:
        writer.close()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self):
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.replies.put_nowait(data)


@contextlib.asynccontextmanager
async def udp_client(port: int, source: str = LOCAL):
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        _Datagrams, local_addr=(source, 0), remote_addr=(LOCAL, port)
    )
    try:
        yield transport, client
    finally:
        transport.close()


async def udp_probe(port: int, data: bytes, *, timeout: float = 2.0):
    """Send one datagram; return (answer or None, the client's source port)."""
    async with udp_client(port) as (transport, client):
        transport.sendto(data)
        try:
            async with asyncio.timeout(timeout):
                return await client.replies.get(), transport.get_extra_info("sockname")[1]
        except TimeoutError:
            return None, transport.get_extra_info("sockname")[1]


def code(answer: bytes) -> str:
    reply = parse_reply(answer)
    return "ok" if isinstance(reply, OkReply) else reply.code


# --- the line protocol ---------------------------------------------------------------------


def padded_request(total: int, terminator: bytes = b"\n") -> bytes:
    """A request line of exactly ``total`` bytes including ``terminator``."""
    head = b"OBM-PROBE 1 "
    return head + b"A" * (total - len(head) - len(terminator)) + terminator


@pytest.mark.parametrize(
    "line", [b"OBM-PROBE 1 abc.DEF-_9\n", b"OBM-PROBE 1 abc.DEF-_9\r\n", b"OBM-PROBE 1 abc.DEF-_9"]
)
def test_request_line_terminators(line):
    assert parse_request(line) == "abc.DEF-_9"


def test_line_limit_counts_the_newline():
    assert parse_request(padded_request(256))
    assert parse_request(padded_request(256, b"\r\n"))
    assert parse_request(padded_request(255, b""))  # unterminated: counted as if it had a \n
    for line in (padded_request(257), padded_request(256, b""), b"x" * 10_000):
        with pytest.raises(ProtocolError) as caught:
            parse_request(line)
        assert caught.value.code == ErrorCode.TOO_LONG
    with pytest.raises(ProtocolError):
        parse_request(padded_request(40), limit=32)


@pytest.mark.parametrize(
    "line, says",
    [
        (b"", "expected"),
        (b"\n", "expected"),
        (b"GET / HTTP/1.1\r\n", "expected"),
        (b"obm-probe 1 abc\n", "expected"),
        (b"OBM-PROBE 2 abc\n", "version"),
        (b"OBM-PROBE abc\n", "version"),
        (b"OBM-PROBE 1\n", "missing token"),
        (b"OBM-PROBE 1 \n", "missing token"),
        (b"OBM-PROBE  1 abc\n", "version"),
        (b"OBM-PROBE 1 abc def\n", "extra fields"),
        (b"OBM-PROBE 1 abc \n", "extra fields"),
        (b"OBM-PROBE 1 a/c\n", "bad characters in token"),
        (b"OBM-PROBE 1 a+c=\n", "bad characters in token"),
        (b"OBM-PROBE\t1 abc\n", "bad characters"),
        (b"OBM-PROBE 1 abc\r\r\n", "bad characters"),
        (b"OBM-PROBE 1 a\x00c\n", "bad characters"),
        ("OBM-PROBE 1 abé\n".encode(), "bad characters"),
        (b"OBM-PROBE 1 abc\nOBM-PROBE 1 abc\n", "bad characters"),
    ],
)
def test_malformed_request_lines(line, says):
    with pytest.raises(ProtocolError) as caught:
        parse_request(line)
    assert caught.value.code == ErrorCode.MALFORMED
    assert says in caught.value.message


def test_answers_format_and_parse():
    line = format_ok("203.0.113.9", 50123, 4401, "tcp", 1_800_000_000, "R" * 22)
    assert line == b"OK 203.0.113.9 50123 4401/tcp 1800000000 " + b"R" * 22 + b"\n"
    assert parse_reply(line) == OkReply("203.0.113.9", 50123, 4401, "tcp", 1_800_000_000, "R" * 22)
    assert format_err("EXPIRED") == b"ERR EXPIRED token expired; start a new probe run\n"
    assert parse_reply(format_err(ErrorCode.REPLAYED, "again")) == ErrReply("REPLAYED", "again")
    assert len(format_err(ErrorCode.MALFORMED, "x" * 1000)) == 256
    assert format_request("abc") == b"OBM-PROBE 1 abc\n"
    with pytest.raises(ValueError):
        format_err("NOPE")
    with pytest.raises(ValueError):
        format_err(ErrorCode.MALFORMED, "two\nlines")
    with pytest.raises(ValueError):
        format_ok("203.0.113.9", 1, 2, "sctp", 3, "r")
    for bad in (b"", b"OK 1 2\n", b"OK a b 4401/tcp 1 r\n", b"OK a 1 4401/icmp 1 r\n", b"ERR\n"):
        with pytest.raises(ValueError):
            parse_reply(bad)


# --- the bounded structures ------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_bucket_refills_and_counts_refusals():
    clock = FakeClock()
    limiter = RateLimiter(3, 1.0, clock=clock)
    assert [limiter.acquire("a") for _ in range(5)] == [0, 0, 0, 1, 2]
    assert limiter.acquire("b") == 0  # another source has its own bucket
    clock.now += 1.0
    assert [limiter.acquire("a") for _ in range(2)] == [0, 1]
    clock.now += 10
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 1]  # capped at the burst


def test_rate_limiter_forgets_idle_sources_and_stays_capped():
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, max_sources=100, clock=clock)
    for index in range(50):
        limiter.acquire(f"s{index}")
    clock.now += 2.0  # a full refill: these buckets are as good as new, so forgetting is free
    limiter.acquire("new")
    assert len(limiter) == 1 and limiter.evicted == 0
    for index in range(1000):
        limiter.acquire(f"flood{index}")
    assert len(limiter) == 100 and limiter.evicted == 901


def test_replay_cache_expires_with_the_token_and_stays_capped():
    cache = ReplayCache(capacity=3)
    assert cache.use("a", expires=100, now=50)
    assert not cache.use("a", expires=100, now=100)  # still good at `expires`
    assert cache.use("b", expires=200, now=60)
    cache.expire(100.5)
    assert "a" not in cache and "b" in cache
    for index in range(10):
        assert cache.use(index, expires=1000, now=70)
    assert len(cache) == 3 and cache.evicted == 8
    assert list(cache._entries) == [7, 8, 9]  # the oldest went first
    for index in range(10, 1000):
        cache.use(index, expires=1000, now=70)
    assert len(cache._expiries) <= 2 * cache.capacity + 1


def test_addresses_recorded_and_rate_keys():
    assert observed_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert observed_address("fe80::1%eth0") == "fe80::1"
    assert observed_address("2001:db8::1") == "2001:db8::1"
    assert rate_key("192.0.2.1") == "192.0.2.1"
    same_64 = rate_key("2001:db8:1:2:aaaa::1"), rate_key("2001:db8:1:2:bbbb::2")
    assert same_64 == ("2001:db8:1:2::/64",) * 2
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")


# --- probes over real sockets ------------------------------------------------------------------


@async_test
async def test_tcp_probe_is_answered_with_a_receipt_and_recorded():
    sink = MemorySink()
    async with responding(sink=sink) as responder:
        port = responder.endpoint("tcp").port
        the_token = token(41)
        answer, source_port = await tcp_probe(port, format_request(the_token))
    reply = parse_reply(answer)
    assert isinstance(reply, OkReply), answer
    assert (reply.observed_ip, reply.observed_port, reply.port, reply.proto) == (
        LOCAL,
        source_port,
        port,
        "tcp",
    )
    assert abs(reply.unix_time - time.time()) < 5
    assert verify_receipt(
        KEY, reply.receipt, the_token, LOCAL, source_port, port, "tcp", reply.unix_time
    )
    [seen] = sink.observations
    assert seen == Observation(
        41, port, "tcp", LOCAL, source_port, seen.received_at, OK, reply.receipt
    )
    assert int(seen.received_at) == reply.unix_time


@async_test
async def test_udp_probe_is_answered_with_a_receipt_and_recorded():
    sink = MemorySink()
    async with responding([(LOCAL, 0, "udp")], sink) as responder:
        port = responder.endpoint("udp").port
        the_token = token(42)
        answer, source_port = await udp_probe(port, format_request(the_token))
    reply = parse_reply(answer)
    assert isinstance(reply, OkReply), answer
    assert (reply.observed_ip, reply.observed_port, reply.port, reply.proto) == (
        LOCAL,
        source_port,
        port,
        "udp",
    )
    assert verify_receipt(
        KEY, reply.receipt, the_token, LOCAL, source_port, port, "udp", reply.unix_time
    )
    assert [(o.run_id, o.protocol, o.outcome) for o in sink.observations] == [(42, "udp", OK)]


@async_test
async def test_crlf_and_an_unterminated_last_line_are_accepted():
    async with responding() as responder:
        port = responder.endpoint("tcp").port
        crlf, _ = await tcp_probe(port, f"OBM-PROBE 1 {token(1)}\r\n".encode())
        unterminated, _ = await tcp_probe(port, f"OBM-PROBE 1 {token(2)}".encode(), eof=True)
        nothing, _ = await tcp_probe(port, b"", eof=True)  # nothing at all, then end of stream
    assert code(crlf) == code(unterminated) == "ok"
    assert code(nothing) == "MALFORMED"
    assert responder.outcomes == {OK: 2, NO_LINE: 1}


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
@async_test
async def test_ipv6_probes():
    sink = MemorySink()
    try:
        responder = ProbeResponder(KEY, [("::1", 0, "tcp"), ("::1", 0, "udp")], sink)
        await responder.start()
    except OSError:
        pytest.skip("::1 cannot be bound here")
    try:
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection("::1", responder.endpoint("tcp").port)
        writer.write(format_request(token(61)))
        over_tcp = parse_reply(await reader.read())
        writer.close()
        done = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: type(
                "P",
                (asyncio.DatagramProtocol,),
                {"datagram_received": lambda self, data, addr: done.set_result(data)},
            )(),
            remote_addr=("::1", responder.endpoint("udp").port),
        )
        transport.sendto(format_request(token(62)))
        over_udp = parse_reply(await asyncio.wait_for(done, 2))
        transport.close()
    finally:
        await responder.stop()
    assert (over_tcp.observed_ip, over_udp.observed_ip) == ("::1", "::1")
    assert [(o.observed_ip, o.outcome) for o in sink.observations] == [("::1", OK)] * 2
    assert list(responder.rate_limiter._buckets) == ["::/64"]


def _free_port_for_both() -> int:
    """A port number free for TCP and UDP on 127.0.0.1, so one responder can listen on both."""
    for _ in range(20):
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_tcp,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_udp,
        ):
            probe_tcp.bind((LOCAL, 0))
            port = probe_tcp.getsockname()[1]
            try:
                probe_udp.bind((LOCAL, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both TCP and UDP")


@async_test
async def test_a_token_proves_each_port_and_protocol_once():
    shared = _free_port_for_both()
    sink = MemorySink()
    listeners = [(LOCAL, shared, "tcp"), (LOCAL, 0, "tcp"), (LOCAL, shared, "udp")]
    async with responding(listeners, sink) as responder:
        other = responder.endpoint("tcp", 1).port
        line = format_request(token(7))
        first, _ = await tcp_probe(shared, line)
        again, _ = await tcp_probe(shared, line)
        other_port, _ = await tcp_probe(other, line)
        other_port_again, _ = await tcp_probe(other, line)
        same_port_udp, _ = await udp_probe(shared, line)
        udp_again, _ = await udp_probe(shared, line)
        fresh, _ = await tcp_probe(shared, format_request(token(7)))  # a new token for the run
    assert [
        code(a)
        for a in (first, again, other_port, other_port_again, same_port_udp, udp_again, fresh)
    ] == ["ok", "REPLAYED", "ok", "REPLAYED", "ok", "REPLAYED", "ok"]
    assert [(o.run_id, o.port, o.protocol, o.outcome) for o in sink.observations] == [
        (7, shared, "tcp", OK),
        (7, shared, "tcp", "REPLAYED"),
        (7, other, "tcp", OK),
        (7, other, "tcp", "REPLAYED"),
        (7, shared, "udp", OK),
        (7, shared, "udp", "REPLAYED"),
        (7, shared, "tcp", OK),
    ]
    assert sink.observations[1].receipt == ""


REFUSALS = [
    # (name, line, code, recorded run_id)
    ("expired", lambda: format_request(token(5, ttl=-10)), "EXPIRED", 5),
    ("unknown key", lambda: format_request(token(5, key=b"not ours")), "UNKNOWN", None),
    ("altered", lambda: format_request(token(5).replace("5.", "6.", 1)), "UNKNOWN", None),
    ("not a token", lambda: b"OBM-PROBE 1 abc.def\n", "MALFORMED", None),
    ("wrong verb", lambda: b"HELLO 1 abc\n", "MALFORMED", None),
    ("wrong version", lambda: format_request(token(5)).replace(b" 1 ", b" 2 "), "MALFORMED", None),
    ("binary", lambda: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", "MALFORMED", None),
    ("too long", lambda: padded_request(257), "TOO_LONG", None),
    ("much too long", lambda: b"OBM-PROBE 1 " + b"A" * 5000 + b"\n", "TOO_LONG", None),
]


@pytest.mark.parametrize(
    "name, make_line, expected, run_id", REFUSALS, ids=[r[0] for r in REFUSALS]
)
@async_test
async def test_refusals_are_answered_with_their_code_and_recorded(
    name, make_line, expected, run_id
):
    sink = MemorySink()
    async with responding([(LOCAL, 0, "tcp"), (LOCAL, 0, "udp")], sink) as responder:
        line = make_line()
        over_tcp, tcp_source = await tcp_probe(responder.endpoint("tcp").port, line)
        over_udp, udp_source = await udp_probe(responder.endpoint("udp").port, line)
    assert code(over_tcp) == code(over_udp) == expected
    assert len(over_tcp) <= 256 and over_tcp.endswith(b"\n")
    assert [
        (o.run_id, o.protocol, o.observed_port, o.outcome, o.receipt) for o in sink.observations
    ] == [(run_id, "tcp", tcp_source, expected, ""), (run_id, "udp", udp_source, expected, "")]


@async_test
async def test_a_sender_that_never_stops_gets_too_long_not_a_reset():
    async with responding(read_timeout=2.0) as responder:
        reader, writer = await asyncio.open_connection(LOCAL, responder.endpoint("tcp").port)
        started = time.monotonic()
        writer.write(b"OBM-PROBE 1 " + b"A" * 4000)  # and no newline, ever
        answer = await reader.read()
        writer.close()
    assert code(answer) == "TOO_LONG"
    assert time.monotonic() - started < 1.0
    assert responder.outcomes == {"TOO_LONG": 1}


@async_test
async def test_slow_clients_are_cut_after_read_timeout_without_blocking_others():
    sink = MemorySink()
    async with responding(sink=sink, read_timeout=0.6) as responder:
        port = responder.endpoint("tcp").port

        async def silent():
            reader, writer = await asyncio.open_connection(LOCAL, port)
            started = time.monotonic()
            answer = await reader.read()
            writer.close()
            return answer, time.monotonic() - started

        async def drip():
            reader, writer = await asyncio.open_connection(LOCAL, port)
            started = time.monotonic()

            async def one_byte_at_a_time():
                with contextlib.suppress(ConnectionError):
                    for byte in format_request(token(9)):  # the whole line would take ~8 s
                        writer.write(bytes([byte]))
                        await asyncio.sleep(0.1)

            sending = asyncio.create_task(one_byte_at_a_time())
            answer = await reader.read()
            took = time.monotonic() - started
            sending.cancel()
            writer.close()
            return answer, took

        async def honest_clients():
            await asyncio.sleep(0.1)  # while the slow ones hold their connections
            timings = []
            for run_id in range(100, 105):
                started = time.monotonic()
                answer, _ = await tcp_probe(port, format_request(token(run_id)))
                timings.append((code(answer), time.monotonic() - started))
            return timings

        (silent_answer, silent_time), (drip_answer, drip_time), honest = await asyncio.gather(
            silent(), drip(), honest_clients()
        )
    assert all(outcome == "ok" and took < 0.3 for outcome, took in honest), honest
    for answer, took in ((silent_answer, silent_time), (drip_answer, drip_time)):
        assert 0.5 < took < 1.5, took
        assert answer.startswith(b"ERR MALFORMED no complete line within 0.6 s")
    assert responder.outcomes == {OK: 5, NO_LINE: 2}
    assert {o.outcome for o in sink.observations if o.run_id is None} == {NO_LINE}


@async_test
async def test_connections_beyond_the_cap_are_refused_at_once():
    sink = MemorySink()
    async with responding(sink=sink, max_connections=3, read_timeout=5.0) as responder:
        port = responder.endpoint("tcp").port
        held = [await asyncio.open_connection(LOCAL, port) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert responder.active_connections == 3
        started = time.monotonic()
        with contextlib.suppress(ConnectionError):  # reset, maybe before connect returns
            reader, writer = await asyncio.open_connection(LOCAL, port)  # a fourth, also silent
            assert await reader.read() == b""
            writer.close()
        assert time.monotonic() - started < 0.5
        assert responder.outcomes == {BUSY: 1}
        assert sink.observations[-1].outcome == BUSY
        for _, held_writer in held:
            held_writer.close()
        await asyncio.sleep(0.05)
        assert responder.active_connections == 0
        answer, _ = await tcp_probe(port, format_request(token(3)))
        assert code(answer) == "ok"


@async_test
async def test_a_line_that_arrives_with_its_connection_needs_no_slot():
    """With every slot held by silent clients, a prober is still answered when its line is
    there on arrival; one that would have to wait is reset."""
    async with responding(max_connections=2, read_timeout=5.0) as responder:
        port = responder.endpoint("tcp").port
        held = [await asyncio.open_connection(LOCAL, port) for _ in range(2)]
        await asyncio.sleep(0.05)
        with socket.socket() as prober:
            prober.settimeout(2)
            prober.connect((LOCAL, port))
            # Blocking calls: the responder (same event loop) cannot accept before the line is
            # sent, so the line is there when it does.
            prober.sendall(format_request(token(4)))
            await asyncio.sleep(0.05)
            answer = prober.makefile("rb").readline()
        assert code(answer) == "ok"
        for _, writer in held:
            writer.close()


async def _flood(port: int, tokens: list[str], *, source: str, concurrency: int) -> list[str]:
    gate = asyncio.Semaphore(concurrency)

    async def one(the_token: str) -> str:
        async with gate:
            answer, _ = await tcp_probe(port, format_request(the_token), source=source)
            return code(answer)

    return await asyncio.gather(*(one(t) for t in tokens))


@async_test
async def test_a_flood_from_one_source_is_rate_limited_and_memory_stays_bounded():
    sink = MemorySink()
    async with responding(
        sink=sink, rate_per_source=(50, 0.01), max_connections_per_source=100
    ) as responder:
        port = responder.endpoint("tcp").port
        tokens = [token(run_id) for run_id in range(1, 2001)]
        outcomes = await _flood(port, tokens, source=LOCAL, concurrency=100)
        other, _ = await tcp_probe(port, format_request(token(9999)), source=OTHER_SOURCE)
        assert outcomes.count("ok") == 50
        assert outcomes.count("RATE_LIMITED") == 1950
        assert code(other) == "ok"
        assert len(responder.rate_limiter) == 2
        assert len(responder.replay_cache) == 51  # refused probes leave nothing behind
        await asyncio.sleep(0.05)
        assert responder.active_connections == 0
    assert len(sink.observations) == 2001
    limited = [o for o in sink.observations if o.outcome == "RATE_LIMITED"]
    assert {o.observed_ip for o in limited} == {LOCAL}
    assert all(o.run_id is not None for o in limited)  # the signature verified: attributable


@async_test
async def test_many_sources_and_tokens_stay_within_the_caps():
    async with responding(max_sources=50, replay_capacity=20) as responder:
        port = responder.endpoint("tcp").port
        for index in range(120):
            answer, _ = await tcp_probe(
                port, format_request(token(index + 1)), source=f"127.0.1.{index + 1}"
            )
            assert code(answer) == "ok"
        assert len(responder.rate_limiter) == 50
        assert responder.rate_limiter.evicted == 70
        assert len(responder.replay_cache) == 20
        assert responder.replay_cache.evicted == 100


@async_test
async def test_udp_rate_limit_answers_a_source_once_then_stays_quiet():
    """Spoofed datagrams must not make the responder a reflector: one RATE_LIMITED answer, then
    silence until the source may probe again; every datagram is still recorded."""
    sink = MemorySink()
    async with (
        responding([(LOCAL, 0, "udp")], sink, rate_per_source=(2, 0.01)) as responder,
        udp_client(responder.endpoint("udp").port) as (transport, client),
    ):
        for run_id in range(1, 7):
            transport.sendto(format_request(token(run_id)))
        answers = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                while True:
                    answers.append(code(await client.replies.get()))
    assert answers == ["ok", "ok", "RATE_LIMITED"]
    assert [o.outcome for o in sink.observations] == [OK, OK] + ["RATE_LIMITED"] * 4


@async_test
async def test_a_failing_sink_does_not_break_probes():
    class Broken:
        def record(self, observation):
            raise RuntimeError("database gone")

        async def flush(self):
            """Nothing buffered: every record already failed."""

    async with responding(sink=Broken()) as responder:
        answer, _ = await tcp_probe(responder.endpoint("tcp").port, format_request(token(1)))
    assert code(answer) == "ok"


# --- sinks and stopping -------------------------------------------------------------------------


@async_test
async def test_a_slow_batching_sink_does_not_slow_handshakes_and_is_flushed_on_stop():
    batches: list[tuple[int, float]] = []

    def slow_write(batch):
        time.sleep(0.3)  # a slow database, in the worker thread
        batches.append((len(batch), time.monotonic()))

    sink = BatchingSink(slow_write, max_batch=50, max_delay=0.02)
    async with responding(sink=sink, rate_per_source=(1000, 1000)) as responder:
        port = responder.endpoint("tcp").port
        started = time.monotonic()
        outcomes = await _flood(
            port, [token(i) for i in range(1, 121)], source=LOCAL, concurrency=20
        )
        took = time.monotonic() - started
        written_meanwhile = sink.written
        assert outcomes == ["ok"] * 120
        # Writing takes at least 3 x 0.3 s; the handshakes were done long before.
        assert took < 0.5 and written_meanwhile < 120, (took, written_meanwhile)
    assert sink.written == 120 and sink.pending == 0 and sink.dropped == 0
    assert sum(size for size, _ in batches) == 120
    assert max(size for size, _ in batches) <= 50


@async_test
async def test_batching_sink_drops_and_counts_when_full_and_survives_failures():
    release = threading.Event()
    written: list[Observation] = []
    calls = 0

    def blocked_write(batch):
        nonlocal calls
        calls += 1
        release.wait(5)
        if calls == 2:
            raise RuntimeError("write failed")
        written.extend(batch)

    sink = BatchingSink(blocked_write, max_batch=4, max_delay=0.01, max_queue=10)
    observations = [Observation(i, 4401, "tcp", LOCAL, i, 0.0, OK) for i in range(30)]
    for observation in observations:
        sink.record(observation)  # all before the writer runs: 10 queue, 20 are dropped
    assert (sink.pending, sink.dropped) == (10, 20)
    release.set()
    await sink.flush()
    assert (sink.written, sink.failed, sink.pending) == (6, 4, 0)
    assert written == observations[:4] + observations[8:10]  # in order, the failed batch lost
    sink.record(observations[0])  # the sink goes on after a flush
    await sink.flush()
    assert sink.written == 7


@async_test
async def test_graceful_stop_finishes_in_flight_probes_and_flushes():
    written: list[Observation] = []
    sink = BatchingSink(written.extend, max_delay=10)  # only a flush writes within this test
    responder = ProbeResponder(KEY, [(LOCAL, 0, "tcp"), (LOCAL, 0, "udp")], sink)
    await responder.start()
    port = responder.endpoint("tcp").port
    reader, writer = await asyncio.open_connection(LOCAL, port)
    line = format_request(token(11))
    writer.write(line[:10])
    await asyncio.sleep(0.05)
    stopping = asyncio.create_task(responder.stop())
    await asyncio.sleep(0.05)
    with pytest.raises(OSError):
        await asyncio.open_connection(LOCAL, port)  # no longer accepting
    assert not stopping.done()  # waiting for the probe in flight
    writer.write(line[10:])
    answer = await reader.read()
    writer.close()
    await asyncio.wait_for(stopping, 1.0)
    assert code(answer) == "ok"
    assert [(o.run_id, o.outcome) for o in written] == [(11, OK)]
    await responder.stop()  # a second stop is harmless


@async_test
async def test_stop_resets_connections_still_idle_after_the_grace():
    async with responding(read_timeout=10) as responder:
        reader, writer = await asyncio.open_connection(LOCAL, responder.endpoint("tcp").port)
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await responder.stop(grace=0.2)
        assert time.monotonic() - started < 1.0
        assert responder.active_connections == 0
        writer.close()


RUN_SCRIPT = """
import json, sys
from sites.probes.responder import BatchingSink, ProbeResponder, run

def write(batch):
    for o in batch:
        print(json.dumps({"outcome": o.outcome, "run_id": o.run_id}), flush=True)

def started(responder):
    print(json.dumps({"port": responder.endpoint("tcp").port}), flush=True)

run(ProbeResponder(sys.argv[1].encode(), [("127.0.0.1", 0, "tcp")],
                   BatchingSink(write, max_delay=30)), on_started=started)
print(json.dumps({"stopped": True}), flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_on_a_signal(signum):
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, KEY.decode()],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        port = json.loads(process.stdout.readline())["port"]
        with socket.create_connection((LOCAL, port), timeout=5) as client:
            client.sendall(format_request(token(21)))
            assert client.makefile("rb").readline().startswith(b"OK ")
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    # The observation was still queued (max_delay=30): stopping flushed it.
    assert [json.loads(line) for line in out.splitlines()] == [
        {"outcome": "ok", "run_id": 21},
        {"stopped": True},
    ]
