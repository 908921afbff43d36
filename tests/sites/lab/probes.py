"""Real-socket probes for the packet lab: a listener and a client, each its own process inside a
namespace (``ip netns exec NS python probes.py …``).

This file is both the helper the tests import (:class:`Listener`, :func:`connect`) and the script
those helpers run (``serve`` / ``connect`` at the bottom), so it imports the standard library only.

The line protocol: the client sends a token (a line over TCP, one datagram over UDP); the listener
records ``{"peer": <source address it saw>, "token": …}`` as one JSON line on its stdout, then
answers ``"<token> <peer>"``. What the listener records is the proof, taken on the receiving
side; the answer proves that the return traffic flows.

:class:`ThreadListener` and :func:`send` do the same from threads of the test process, each socket
made inside its namespace (``setns``): for tests that send many probes at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = str(Path(__file__).resolve())
LISTEN_SECONDS = 30  # a listener exits by itself after this, even if the test process dies
READY_TIMEOUT = 10


@dataclass(frozen=True)
class Outcome:
    """What the client saw."""

    ok: bool  # connected (TCP) and got the token's answer back
    error: str | None = None  # "timeout", "refused", or another errno name
    reply: str | None = None
    reply_from: str | None = None  # the answer's source address

    def __str__(self) -> str:
        return json.dumps(self.__dict__)


def _in_namespace(namespace: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, sys.executable, SCRIPT, *args]


class Listener:
    """A TCP or UDP listener on every address of ``namespace``, for the length of a ``with``.

    ``observations`` (after the block) lists what it received: one dict per connection or
    datagram, with the ``peer`` address it came from and the ``token`` it carried.
    """

    def __init__(self, namespace: str, protocol: str, port: int):
        self.namespace, self.protocol, self.port = namespace, protocol, port
        self.observations: list[dict] = []
        self.process: subprocess.Popen | None = None
        self.stderr = ""

    def __enter__(self) -> Listener:
        self.process = subprocess.Popen(
            _in_namespace(
                self.namespace,
                "serve",
                self.protocol,
                str(self.port),
                "--seconds",
                str(LISTEN_SECONDS),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], READY_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if json.loads(line or "{}").get("ready") is not True:
            self.stop()
            raise RuntimeError(
                f"{self.protocol} listener on port {self.port} in {self.namespace} did not start: "
                f"{line!r} {self.stderr}"
            )
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> list[dict]:
        """End the listener (by its own pid) and collect what it recorded."""
        if self.process is None:
            return self.observations
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
        try:
            out, err = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        self.stderr = err
        self.observations = [json.loads(line) for line in out.splitlines() if line.strip()]
        return self.observations


def connect(
    namespace: str,
    protocol: str,
    address: str,
    port: int,
    token: str,
    *,
    source: str | None = None,
    source_port: int = 0,
    timeout: float = 3.0,
) -> Outcome:
    """Send ``token`` from ``namespace`` to ``address:port``; wait ``timeout`` s for the answer.
    ``source_port``: bind to it (0: the kernel picks one), so a test that sends many probes can
    give each its own connection-tracking entry."""
    args = ["connect", protocol, address, str(port), token, "--timeout", str(timeout)]
    if source:
        args += ["--source", source]
    if source_port:
        args += ["--source-port", str(source_port)]
    result = subprocess.run(
        _in_namespace(namespace, *args), capture_output=True, text=True, timeout=timeout + 10
    )
    if result.returncode != 0:
        raise RuntimeError(f"probe client failed in {namespace}: {result.stderr.strip()}")
    return Outcome(**json.loads(result.stdout))


# -- in this process: sockets made inside a namespace, no process per probe --------------------
#
# A test that sends many probes at once (test_plan_sequences.py) makes each socket inside its
# namespace from a thread of the test process: setns(2) moves only the calling thread, and a
# socket stays in the namespace it was made in after the thread moves back. The packets are the
# same; only the Python start-up of a process per probe is saved.


@contextlib.contextmanager
def _thread_in(namespace: str):
    """This thread in ``namespace`` (``ip netns`` name) for the block, then back."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)
            try:
                yield
            finally:
                os.setns(own, os.CLONE_NEWNET)
        finally:
            os.close(target)
    finally:
        os.close(own)


def socket_in(namespace: str, protocol: str) -> socket.socket:
    """A new TCP or UDP socket that belongs to ``namespace``."""
    with _thread_in(namespace):
        return _new_socket(protocol)


class ThreadListener:
    """:class:`Listener`'s twin in a thread of this process: the same records in
    ``observations`` after the ``with`` block."""

    def __init__(self, namespace: str, protocol: str, port: int):
        self.namespace, self.protocol, self.port = namespace, protocol, port
        self.observations: list[dict] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ThreadListener:
        server = _listening_socket(
            self.protocol, self.port, socket_in(self.namespace, self.protocol)
        )
        self._thread = threading.Thread(target=self._run, args=(server,), daemon=True)
        self._thread.start()
        return self

    def _run(self, server: socket.socket) -> None:
        with server:
            while not self._stop.is_set():
                if select.select([server], [], [], 0.05)[0]:
                    with contextlib.suppress(OSError):
                        self.observations.append(_answer(server, self.protocol))

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> list[dict]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.observations


def send(
    namespace: str,
    protocol: str,
    address: str,
    port: int,
    token: str,
    *,
    source: str | None = None,
    source_port: int = 0,
    timeout: float = 3.0,
) -> Outcome:
    """:func:`connect` from a socket made in ``namespace`` by this process."""
    sock = socket_in(namespace, protocol)
    return Outcome(
        **_connect(protocol, address, port, token, timeout, source, source_port, sock=sock)
    )


# -- the script: runs inside a namespace -------------------------------------------------------


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _listening_socket(protocol: str, port: int, sock: socket.socket | None = None):
    server = sock or _new_socket(protocol)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    if protocol == "tcp":
        server.listen(16)
    return server


def _answer(server: socket.socket, protocol: str) -> dict:
    """Take one datagram or connection that is waiting on ``server``, answer it, and return the
    record ``{"peer": …, "token": …}``."""
    if protocol == "udp":
        data, (peer, peer_port) = server.recvfrom(2048)
        token = data.decode(errors="replace").strip()
        server.sendto(f"{token} {peer}".encode(), (peer, peer_port))
        return {"peer": peer, "token": token}
    conn, (peer, _) = server.accept()
    with conn:
        conn.settimeout(3)
        data = b""
        with contextlib.suppress(OSError):  # a timeout or reset ends the line: use what came
            while not data.endswith(b"\n") and len(data) < 2048:
                chunk = conn.recv(2048)
                if not chunk:
                    break
                data += chunk
        token = data.decode(errors="replace").strip()
        conn.sendall(f"{token} {peer}\n".encode())
    return {"peer": peer, "token": token}


def _serve(protocol: str, port: int, seconds: float) -> None:
    server = _listening_socket(protocol, port)
    _emit({"ready": True})
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([server], [], [], left)[0]:
            _emit(_answer(server, protocol))


def _new_socket(protocol: str) -> socket.socket:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    return socket.socket(socket.AF_INET, kind)


def _connect(
    protocol: str,
    address: str,
    port: int,
    token: str,
    timeout: float,
    source: str | None,
    source_port: int = 0,
    sock: socket.socket | None = None,
) -> dict:
    with sock or _new_socket(protocol) as sock:
        sock.settimeout(timeout)
        if source or source_port:
            sock.bind((source or "", source_port))
        try:
            if protocol == "tcp":
                sock.connect((address, port))
                sock.sendall(f"{token}\n".encode())
                reply, reply_from = b"", sock.getpeername()[0]
                while not reply.endswith(b"\n"):
                    chunk = sock.recv(2048)
                    if not chunk:
                        break
                    reply += chunk
            else:
                # Unconnected, so any answer is received and its source address reported.
                sock.sendto(token.encode(), (address, port))
                reply, (reply_from, _) = sock.recvfrom(2048)
        except TimeoutError:
            return {"ok": False, "error": "timeout"}
        except ConnectionRefusedError:
            return {"ok": False, "error": "refused"}
        except OSError as error:
            return {"ok": False, "error": error.__class__.__name__ + f" {error.errno}"}
    text = reply.decode(errors="replace").strip()
    return {"ok": text.split(" ")[0] == token, "reply": text, "reply_from": reply_from}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("protocol", choices=("tcp", "udp"))
    serve.add_argument("port", type=int)
    serve.add_argument("--seconds", type=float, default=LISTEN_SECONDS)
    client = commands.add_parser("connect")
    client.add_argument("protocol", choices=("tcp", "udp"))
    client.add_argument("address")
    client.add_argument("port", type=int)
    client.add_argument("token")
    client.add_argument("--timeout", type=float, default=3.0)
    client.add_argument("--source")
    client.add_argument("--source-port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.protocol, args.port, args.seconds)
    else:
        print(
            json.dumps(
                _connect(
                    args.protocol,
                    args.address,
                    args.port,
                    args.token,
                    args.timeout,
                    args.source,
                    args.source_port,
                )
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
