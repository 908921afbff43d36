"""One source cannot crowd others out of the responder's connection slots.

Real sockets on loopback: 127.0.0.1 holds idle connections (connected, no line), 127.0.0.2
probes. Each probe here connects first and sends its line a moment later, so that it needs a
slot (a line already there on arrival is answered without one).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from sites.probes.protocol import format_request
from sites.probes.responder import BUSY, OK, MemorySink, ProbeResponder
from tests.sites.probes.test_responder import (
    KEY,
    LOCAL,
    OTHER_SOURCE,
    async_test,
    code,
    responding,
    token,
)


async def hold_idle(port: int, count: int, *, source: str = LOCAL) -> list[asyncio.StreamWriter]:
    """Open ``count`` connections from ``source`` that never send a line; keep their writers."""
    writers = []
    for _ in range(count):
        with contextlib.suppress(ConnectionError):
            _, writer = await asyncio.open_connection(LOCAL, port, local_addr=(source, 0))
            writers.append(writer)
    await asyncio.sleep(0.1)  # let the responder accept them all
    return writers


async def slow_probe(port: int, run_id: int, *, source: str) -> bytes:
    """Connect from ``source``, wait until the responder has accepted, then send the line."""
    reader, writer = await asyncio.open_connection(LOCAL, port, local_addr=(source, 0))
    try:
        await asyncio.sleep(0.1)
        writer.write(format_request(token(run_id)))
        return await reader.read()
    finally:
        writer.close()


def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()


@async_test
async def test_one_source_holds_at_most_its_share_of_the_slots():
    sink = MemorySink()
    async with responding(
        sink=sink, max_connections=64, max_connections_per_source=4, read_timeout=5.0
    ) as responder:
        port = responder.endpoint("tcp").port
        held = await hold_idle(port, 10)
        assert responder.active_connections == 4
        assert responder.outcomes == {BUSY: 6}
        answers = await asyncio.gather(
            *(slow_probe(port, run_id, source=OTHER_SOURCE) for run_id in range(1, 5))
        )
        assert [code(answer) for answer in answers] == ["ok"] * 4
        close_all(held)


@async_test
async def test_when_every_slot_is_taken_the_heaviest_sources_oldest_idle_connection_goes():
    sink = MemorySink()
    async with responding(
        sink=sink, max_connections=8, max_connections_per_source=32, read_timeout=5.0
    ) as responder:
        port = responder.endpoint("tcp").port
        held = await hold_idle(port, 8)
        assert responder.active_connections == 8
        oldest_source_port = held[0].get_extra_info("sockname")[1]

        answer = await slow_probe(port, 7, source=OTHER_SOURCE)

        assert code(answer) == "ok"
        shed = [o for o in sink.observations if o.outcome == BUSY]
        assert [(o.observed_ip, o.observed_port) for o in shed] == [(LOCAL, oldest_source_port)]
        assert responder.outcomes == {BUSY: 1, OK: 1}
        close_all(held)


@async_test
async def test_a_source_cannot_shed_connections_to_win_more_than_its_share():
    """Shedding evens out sources: the source that holds every slot cannot push out its own
    idle connections, and a source is not shed down below the newcomer's share."""
    async with responding(
        max_connections=4, max_connections_per_source=32, read_timeout=5.0
    ) as responder:
        port = responder.endpoint("tcp").port
        held = await hold_idle(port, 2) + await hold_idle(port, 2, source=OTHER_SOURCE)
        assert responder.active_connections == 4
        held += await hold_idle(port, 1)
        assert responder.outcomes == {BUSY: 1}  # refused: 127.0.0.1 already holds its half
        assert responder.active_connections == 4
        close_all(held)


def test_the_per_source_cap_must_be_positive():
    with pytest.raises(ValueError, match="max_connections_per_source"):
        ProbeResponder(KEY, [(LOCAL, 0, "tcp")], MemorySink(), max_connections_per_source=0)
