"""Inbound checks against real sockets on loopback, answered by the reference listener."""

import asyncio
import contextlib
import os
import socket
import time
from ipaddress import IPv4Address

import pytest

from sites.probes import inbound
from sites.probes.inbound import InboundResult, InboundTarget, Outcome, check_inbound
from sites.probes.listener import answer_for, serve_listener

TOKEN = "42.1767225600.q1w2e3r4t5y.AbCdEfGhIjKlMnOpQrStUv"
HOST = "127.0.0.1"


def run(coroutine):
    return asyncio.run(coroutine)


def tcp(port, token=TOKEN, host=HOST):
    return InboundTarget(IPv4Address(host) if ":" not in host else host, port, "tcp", token)


def udp(port, token=TOKEN, host=HOST):
    return InboundTarget(IPv4Address(host) if ":" not in host else host, port, "udp", token)


def bound_but_not_listening(kind=socket.SOCK_STREAM, host=HOST):
    """A socket holding a port nobody answers on: TCP connects are reset, UDP is swallowed."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    sock.bind((host, 0))
    return sock


async def silent_tcp_server(peak):
    """Accepts connections, never answers; counts how many are open at once."""
    open_now = 0

    async def handle(reader, writer):
        nonlocal open_now
        open_now += 1
        peak[0] = max(peak[0], open_now)
        try:
            with contextlib.suppress(ConnectionResetError):  # the checker's reset ends it
                await reader.read()  # until the checker gives up and closes (with a reset)
        finally:
            open_now -= 1
            writer.close()

    return await asyncio.start_server(handle, HOST, 0)


async def answering_tcp_server(answer: bytes, *, close_without_answer=False):
    async def handle(reader, writer):
        await reader.readline()
        if not close_without_answer:
            writer.write(answer)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, HOST, 0)


def port_of(server):
    return server.sockets[0].getsockname()[1]


# ---------------------------------------------------------------------------------------------


def test_proven_over_tcp_and_udp():
    async def scenario():
        async with await serve_listener(HOST, [0], [0], TOKEN) as listener:
            return await check_inbound(
                [tcp(listener.tcp_ports[0]), udp(listener.udp_ports[0])], token_for=None
            )

    results = run(scenario())
    assert [r.outcome for r in results] == [Outcome.PROVEN, Outcome.PROVEN]
    assert all(r.proven and r.detail == "answered with the token" for r in results)
    assert all(isinstance(r, InboundResult) and r.elapsed_ms >= 0 for r in results)


def test_proven_over_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 here")

    async def scenario():
        async with await serve_listener("::1", [0], [0], TOKEN) as listener:
            return await check_inbound(
                [tcp(listener.tcp_ports[0], host="::1"), udp(listener.udp_ports[0], host="::1")]
            )

    assert [r.outcome for r in run(scenario())] == ["proven", "proven"]


def test_token_for_supplies_the_token():
    async def scenario():
        async with await serve_listener(HOST, [0], [0], TOKEN) as listener:
            targets = [tcp(listener.tcp_ports[0], token=None), udp(listener.udp_ports[0], None)]
            return await check_inbound(targets, token_for=lambda target: TOKEN)

    assert [r.outcome for r in run(scenario())] == ["proven", "proven"]


def test_wrong_token_is_a_mismatch():
    async def scenario():
        async with await serve_listener(HOST, [0], [0], "another-run-token") as listener:
            return await check_inbound([tcp(listener.tcp_ports[0]), udp(listener.udp_ports[0])])

    results = run(scenario())
    assert [r.outcome for r in results] == [Outcome.MISMATCH, Outcome.MISMATCH]
    assert all("ERR MISMATCH" in r.detail for r in results)


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (f"OK {TOKEN}\r\n".encode(), Outcome.PROVEN),
        (f"OK {TOKEN} \n".encode(), Outcome.MISMATCH),
        (f"OK {TOKEN}".encode(), Outcome.MISMATCH),  # no newline before close
        (f"ok {TOKEN}\n".encode(), Outcome.MISMATCH),
        (f"OK {TOKEN[:-1]}\n".encode(), Outcome.MISMATCH),
        (b"SSH-2.0-OpenSSH_9.6\r\n", Outcome.MISMATCH),
        (b"x" * 10_000, Outcome.MISMATCH),  # too long: read stops at 257 bytes
    ],
    ids=[
        "crlf",
        "trailing-space",
        "no-newline",
        "lower-case",
        "truncated-token",
        "other-service",
        "too-long",
    ],
)
def test_only_exactly_ok_token_proves(answer, outcome):
    async def scenario():
        async with await answering_tcp_server(answer) as server:
            return await check_inbound([tcp(port_of(server))], connect_timeout=2.0)

    [result] = run(scenario())
    assert result.outcome == outcome, result.detail
    assert len(result.detail) < 200


def test_accepted_then_closed_is_a_mismatch():
    async def scenario():
        async with await answering_tcp_server(b"", close_without_answer=True) as server:
            return await check_inbound([tcp(port_of(server))])

    [result] = run(scenario())
    assert result.outcome == Outcome.MISMATCH
    assert "without an answer" in result.detail


def test_closed_tcp_port_is_refused():
    holder = bound_but_not_listening()
    try:
        [result] = run(check_inbound([tcp(holder.getsockname()[1])]))
    finally:
        holder.close()
    assert result.outcome == Outcome.REFUSED
    assert not result.proven


def test_tcp_listener_that_never_answers_times_out_within_the_limit():
    peak = [0]

    async def scenario():
        async with await silent_tcp_server(peak) as server:
            started = time.perf_counter()
            results = await check_inbound([tcp(port_of(server))], connect_timeout=0.3)
            return results, time.perf_counter() - started

    [result], took = run(scenario())
    assert result.outcome == Outcome.TIMEOUT
    assert "no answer within 0.3 s" in result.detail
    assert 0.25 <= took < 1.5


def test_connection_that_never_completes_times_out():
    """A full accept queue drops the SYN: the line waits, unsent, until the connect deadline."""
    server = socket.socket()
    server.bind((HOST, 0))
    server.listen(0)  # room for one connection, never accepted
    port = server.getsockname()[1]
    filler = socket.create_connection((HOST, port))
    try:
        started = time.perf_counter()
        [result] = run(check_inbound([tcp(port)], connect_timeout=0.3, answer_timeout=5.0))
        took = time.perf_counter() - started
    finally:
        filler.close()
        server.close()
    assert result.outcome == Outcome.TIMEOUT
    assert result.detail == "no connection within 0.3 s"
    assert 0.25 <= took < 1.5


def test_udp_with_nobody_answering_is_not_proven():
    holder = bound_but_not_listening(socket.SOCK_DGRAM)  # datagrams arrive, nobody answers
    try:
        started = time.perf_counter()
        [result] = run(
            check_inbound([udp(holder.getsockname()[1])], udp_timeout=0.1, udp_retries=2)
        )
        took = time.perf_counter() - started
    finally:
        holder.close()
    assert result.outcome == Outcome.TIMEOUT
    assert "no answer to 3 datagrams" in result.detail and "not proven" in result.detail
    assert 0.25 <= took < 1.5


def test_udp_with_nothing_bound_is_not_proven():
    holder = bound_but_not_listening(socket.SOCK_DGRAM)
    port = holder.getsockname()[1]
    holder.close()
    [result] = run(check_inbound([udp(port)], udp_timeout=0.1, udp_retries=1))
    # Loopback sends an ICMP port-unreachable (refused); a filtered path would just time out.
    assert result.outcome in (Outcome.REFUSED, Outcome.TIMEOUT)
    assert not result.proven


def test_udp_retries_until_answered():
    received = []

    class DropsTheFirstDatagram(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            received.append(data)
            if len(received) > 1:
                self.transport.sendto(answer_for(data, TOKEN), addr)

    async def scenario():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            DropsTheFirstDatagram, local_addr=(HOST, 0)
        )
        try:
            port = transport.get_extra_info("sockname")[1]
            return await check_inbound([udp(port)], udp_timeout=0.2, udp_retries=2)
        finally:
            transport.close()

    [result] = run(scenario())
    assert result.outcome == Outcome.PROVEN
    assert received == [f"OBM-PROBE 1 {TOKEN}\n".encode()] * 2


def test_concurrency_is_bounded():
    peak = [0]

    async def scenario():
        async with await silent_tcp_server(peak) as server:
            started = time.perf_counter()
            results = await check_inbound(
                [tcp(port_of(server))] * 30, concurrency=7, connect_timeout=0.1
            )
            return results, time.perf_counter() - started

    results, took = run(scenario())
    assert [r.outcome for r in results] == [Outcome.TIMEOUT] * 30
    # Each check holds its socket for 0.1 s, so 30 checks 7 at a time take at least 5 rounds
    # (all at once would take 0.1 s); the listener saw the 7 together.
    assert took >= 0.45
    assert peak[0] >= 7


def test_a_thousand_targets_with_concurrency_200():
    async def scenario():
        async with await serve_listener(HOST, [0] * 50, [0] * 10, TOKEN) as listener:
            targets = [tcp(port) for port in listener.tcp_ports] * 16
            targets += [udp(port) for port in listener.udp_ports] * 20
            started = time.perf_counter()
            results = await check_inbound(targets, concurrency=200)
            return targets, results, time.perf_counter() - started

    targets, results, took = run(scenario())
    assert len(targets) == 1000
    assert [r.target for r in results] == targets  # one result per target, in order
    assert all(r.outcome == Outcome.PROVEN for r in results), {r.detail for r in results}
    assert took < 5.0


def test_every_socket_is_closed():
    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    peak = [0]

    async def scenario():
        async with (
            await serve_listener(HOST, [0], [0], TOKEN) as listener,
            await silent_tcp_server(peak) as silent,
        ):
            holder = bound_but_not_listening()
            try:
                before = open_fds()
                await check_inbound(
                    [
                        tcp(listener.tcp_ports[0]),
                        udp(listener.udp_ports[0]),
                        tcp(port_of(silent)),
                        tcp(holder.getsockname()[1]),
                        tcp(listener.tcp_ports[0], token="wrong"),
                    ]
                    * 20,
                    connect_timeout=0.2,
                )
                await asyncio.sleep(0.05)
                return before, open_fds()
            finally:
                holder.close()

    before, after = run(scenario())
    assert after <= before


def test_errors_are_results_not_exceptions():
    def token_for(target):
        if target.port == 1:
            raise RuntimeError("no run for this site")
        return "bad token with spaces"

    results = run(check_inbound([tcp(1, token=None), tcp(2, token=None)], token_for=token_for))
    assert [r.outcome for r in results] == [Outcome.ERROR, Outcome.ERROR]
    assert "no run for this site" in results[0].detail
    assert "token" in results[1].detail


def test_no_targets():
    assert run(check_inbound([])) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: InboundTarget("fw.example.com", 4403, "tcp", TOKEN),
        lambda: InboundTarget("127.1", 4403, "tcp", TOKEN),
        lambda: InboundTarget("fe80::1%eth0", 4403, "tcp", TOKEN),
        lambda: InboundTarget(HOST, 0, "tcp", TOKEN),
        lambda: InboundTarget(HOST, 65536, "tcp", TOKEN),
        lambda: InboundTarget(HOST, True, "tcp", TOKEN),
        lambda: InboundTarget(HOST, 4403, "sctp", TOKEN),
        lambda: InboundTarget(HOST, 4403, "tcp", "two words"),
        lambda: InboundTarget(HOST, 4403, "tcp", "x" * 244),
        lambda: InboundTarget(HOST, 4403, "tcp", "tökén"),
    ],
    ids=[
        "name",
        "shorthand",
        "zone-id",
        "port-0",
        "port-too-big",
        "port-bool",
        "protocol",
        "token-space",
        "token-too-long",
        "token-non-ascii",
    ],
)
def test_invalid_targets_refused_at_construction(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"concurrency": 0},
        {"concurrency": 2.5},
        {"connect_timeout": 0},
        {"udp_timeout": -1},
        {"udp_retries": -1},
        {"answer_timeout": 0},
    ],
    ids=[
        "concurrency-0",
        "concurrency-float",
        "connect-timeout",
        "udp-timeout",
        "udp-retries",
        "answer-timeout",
    ],
)
def test_invalid_arguments_raise_before_connecting(kwargs):
    with pytest.raises(ValueError):
        run(check_inbound([tcp(4403)], **kwargs))


def test_reference_listener_binds_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        run(serve_listener("0.0.0.0", [0], [], TOKEN))


def test_reference_listener_answers():
    assert answer_for(f"OBM-PROBE 1 {TOKEN}\r\n".encode(), TOKEN) == f"OK {TOKEN}\n".encode()
    assert answer_for(f"OBM-PROBE 2 {TOKEN}\n".encode(), TOKEN) == b"ERR MISMATCH\n"
    assert answer_for(b"OBM-PROBE 1 other\n", TOKEN) == b"ERR MISMATCH\n"


def test_works_without_epoll(monkeypatch):
    """Where there is no epoll (macOS, BSD) the run watches its sockets through ``selectors``."""
    monkeypatch.setattr(inbound, "_new_poller", inbound._SelectorPoller)
    holder = bound_but_not_listening()

    async def scenario():
        peak = [0]
        async with (
            await serve_listener(HOST, [0], [0], TOKEN) as listener,
            await silent_tcp_server(peak) as silent,
        ):
            return await check_inbound(
                [
                    tcp(listener.tcp_ports[0]),
                    udp(listener.udp_ports[0]),
                    tcp(listener.tcp_ports[0], token="other"),
                    tcp(holder.getsockname()[1]),
                    tcp(port_of(silent)),
                ]
                * 3,
                connect_timeout=0.2,
            )

    try:
        results = run(scenario())
    finally:
        holder.close()
    assert [r.outcome for r in results] == [
        Outcome.PROVEN,
        Outcome.PROVEN,
        Outcome.MISMATCH,
        Outcome.REFUSED,
        Outcome.TIMEOUT,
    ] * 3


def test_a_cancelled_run_closes_its_sockets():
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    peak = [0]

    async def scenario():
        async with await silent_tcp_server(peak) as server:
            before = len(os.listdir("/proc/self/fd"))
            task = asyncio.create_task(
                check_inbound([tcp(port_of(server))] * 20, connect_timeout=30.0)
            )
            await asyncio.sleep(0.2)
            during = len(os.listdir("/proc/self/fd"))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.1)  # the silent server sees EOF and closes its side
            return before, during, len(os.listdir("/proc/self/fd"))

    before, during, after = run(scenario())
    assert during >= before + 20  # our 20 sockets (and the server's 20) were open
    assert after <= before


def test_reference_listener_reassembles_a_split_line_and_drops_a_long_one():
    async def scenario():
        async with await serve_listener(HOST, [0], [], TOKEN, idle_timeout=0.3) as listener:
            port = listener.tcp_ports[0]
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"OBM-PROBE 1 " + TOKEN[:10].encode())
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(TOKEN[10:].encode() + b"\r\n")
            split = await reader.read()
            writer.close()

            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"OBM-PROBE 1 " + b"x" * 300 + b"\n")
            try:
                too_long = await reader.read()
            except ConnectionResetError:  # closed with the rest of our line unread
                too_long = b""
            writer.close()

            reader, writer = await asyncio.open_connection(HOST, port)
            started = time.perf_counter()
            idle = await reader.read()  # says nothing: dropped after idle_timeout
            waited = time.perf_counter() - started
            writer.close()
            return split, too_long, idle, waited, listener.answered

    split, too_long, idle, waited, answered = run(scenario())
    assert split == f"OK {TOKEN}\n".encode()
    assert too_long == b"" and idle == b""
    assert 0.2 <= waited < 2.0
    assert answered == 1
