#!/usr/bin/env python3
"""OBM firewall probe: proves that the backup ports are open through your firewall.

Run it on the backup host (the computer that runs the online-backup client), except for the
proof that other machines are kept out: that ``check`` runs on another computer of the LAN (not
the backup host), as the rollout page says. It needs Python 3.8 or newer and nothing else: it is
one file, using the Python standard library only.

It sends nothing but the probe token: the line ``OBM-PROBE 1 <token>``, where <token> is the
one-time token shown on your rollout page. No file, host name, user name or other information
leaves this computer. The token only says which probe run this is; it expires after a short time.

Two modes:

``check`` (outbound: backup and restore)
    Connects from this host to the portal's probe service on each port, sends the token and
    prints what the portal saw, one line per port::

        python3 obm_probe.py check --server PROBE_SERVER --token TOKEN --tcp 4401

        TCP 4401  OK    the portal saw you as 192.0.2.1:51234

    ``--udp 4403`` checks UDP ports as well; ``--timeout 5`` is the time to wait per port, in
    seconds. Exit status 0 when every port is OK, 1 otherwise, 2 for a mistake on the command line.
    A ``FAIL`` line says what went wrong (refused, timed out, no answer); a ``REFUSED`` line means
    the portal was reached but did not accept the token (expired, already used: start a new probe
    run on the rollout page).

``check`` on a schedule (the probe agent: re-verification without anyone at the page)
    With the site's agent key (from the site page) instead of a token, the client asks the portal
    whether the site is due for re-verification (by the schedule chosen for the site, or because
    its public address changed); if so the portal opens a run and the client checks its ports::

        python3 obm_probe.py check --portal https://PORTAL --agent-key KEY

    Run it every hour from cron or Task Scheduler; between re-verifications it prints "Not due"
    and exits 0.

``listen`` (inbound: remote monitoring from outside)
    Waits for the portal's probe on the monitoring ports (TCP and UDP 4403 by default), which your
    firewall must forward to this host. It answers ``OK <token>`` to a probe carrying exactly its
    token, ``ERR MISMATCH`` to anything else, and prints each probe it answered::

        python3 obm_probe.py listen --token TOKEN --tcp 4403 --udp 4403 --duration 600

    Start it, then press "Run inbound check" on the rollout page. It stops after ``--duration``
    seconds or on Ctrl-C; exit status 0 when at least one valid probe was answered, 1 otherwise.
    If the backup software already listens on the port, stop its service while you check. The
    host's own firewall (Windows Defender Firewall) must allow the inbound ports too.

On Windows run it with ``py obm_probe.py ...`` or ``python obm_probe.py ...``.
"""

import argparse
import contextlib
import json
import os
import re
import selectors
import socket
import sys
import time
import urllib.error
import urllib.request

__version__ = "1"

VERB = "OBM-PROBE"
VERSION = "1"
MAX_LINE = 256  # bytes, newline included (the protocol's limit)
DEFAULT_CHECK_TCP = [4401]
DEFAULT_LISTEN_TCP = [4403]
DEFAULT_LISTEN_UDP = [4403]
UDP_ATTEMPTS = 3  # datagrams sent per UDP port in check mode (UDP may drop one)
CONN_TIMEOUT = 10.0  # seconds a listen-mode TCP connection may take to send its line
MAX_CONNECTIONS = 64  # open listen-mode TCP connections at once; more are closed at once

# Tokens are <run_id>.<expires>.<nonce>.<mac>: digits, dots and base64url. The line
# "OBM-PROBE 1 <token>\n" must fit in 256 bytes.
TOKEN_RE = re.compile(r"[A-Za-z0-9._-]{1,243}\Z")
_PRINTABLE_RE = re.compile(r"[\x20-\x7e]*\Z")

OK, FAIL, REFUSED = "OK", "FAIL", "REFUSED"
AGENT_RUNS_PATH = (
    "/probe-agent/runs/"  # where the agent asks for a new run (docs/probe-protocol.md)
)
AGENT_KEY_RE = re.compile(r"obmk\.[0-9]{1,19}\.[0-9]{1,10}\.[A-Za-z0-9_-]{22}\Z")


# --------------------------------------------------------------------------------------------
# Small helpers


def _shown(data, limit=80):
    """Bytes from the network as safe, printable text (escaped ASCII, at most ``limit`` chars)."""
    text = data[:limit].decode("ascii", "backslashreplace")
    out = []
    for ch in text:
        if " " <= ch <= "~":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        else:
            out.append("\\x%02x" % (ord(ch) & 0xFF))
    suffix = "..." if len(data) > limit else ""
    return "'" + "".join(out) + "'" + suffix


def _endpoint(host, port):
    if ":" in host:
        return "[%s]:%s" % (host, port)
    return "%s:%s" % (host, port)


def _strip_line(data):
    """``data`` without its line ending (``\\n`` or ``\\r\\n``)."""
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _seconds(value):
    return "%g" % value


def _say(text):
    print(text, flush=True)


def fetch_agent_run(portal, agent_key, timeout):
    """Ask the portal for a new outbound probe run with the site's agent key.

    Returns the run as a dict (server, token, tcp, udp), or ``{"due": false, ...}`` when the
    site's proof is still fresh; raises ``AgentError`` with a message for the person reading the
    log.
    """
    url = portal.rstrip("/") + AGENT_RUNS_PATH
    request = urllib.request.Request(
        url,
        data=b"",
        method="POST",
        headers={
            "Authorization": "Bearer " + agent_key,
            "Accept": "application/json",
            "User-Agent": "obm_probe/" + __version__,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read(65536).decode("utf-8")).get("detail", "")
        except (ValueError, AttributeError, OSError):
            detail = ""
        raise AgentError(
            "the portal refused (HTTP %s): %s" % (exc.code, detail or exc.reason)
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise AgentError(
            "cannot reach the portal at %s: %s" % (url, getattr(exc, "reason", None) or exc)
        ) from None
    try:
        run = json.loads(body.decode("utf-8"))
        if run.get("due") is False:
            return run  # the site's proof is fresh: nothing to do until the next re-verification
        if not (isinstance(run.get("server"), str) and TOKEN_RE.match(run.get("token", ""))):
            raise ValueError("no server or token")
        run["tcp"] = [int(p) for p in run.get("tcp", [])]
        run["udp"] = [int(p) for p in run.get("udp", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise AgentError("unexpected answer from the portal (%s)" % exc) from None
    return run


class AgentError(Exception):
    """The portal could not be asked for a run, or refused: the message says why."""


def parse_reply(data):
    """Parse the portal's answer.

    Returns ``("OK", observed_ip, observed_port, "port/proto", unix_time, receipt)``,
    ``("ERR", code, message)``, or ``None`` when it is neither.
    """
    if len(data) > MAX_LINE:
        return None
    body = _strip_line(data)
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not _PRINTABLE_RE.match(text):
        return None
    if text.startswith("ERR "):
        code, _, message = text[4:].partition(" ")
        if not code:
            return None
        return ("ERR", code, message)
    fields = text.split(" ")
    if len(fields) != 6 or fields[0] != "OK":
        return None
    port, slash, proto = fields[3].partition("/")
    if not slash or proto not in ("tcp", "udp"):
        return None
    if not (fields[2].isdigit() and port.isdigit() and fields[4].isdigit()):
        return None
    return ("OK", fields[1], int(fields[2]), fields[3], int(fields[4]), fields[5])


# --------------------------------------------------------------------------------------------
# check: this host -> the portal's probe responder


class Result:
    """The outcome of checking one port: status OK, FAIL or REFUSED, and a message."""

    def __init__(self, proto, port, status, message):
        self.proto = proto
        self.port = port
        self.status = status
        self.message = message

    def line(self):
        return "%-3s %-5s %-5s %s" % (self.proto.upper(), self.port, self.status, self.message)


def _judge(proto, port, data, sent_to, target_port):
    """A Result for an answer, or None when ``data`` is not a reply line."""
    reply = parse_reply(data)
    if reply is None:
        return None
    if reply[0] == "ERR":
        message = reply[2] or "(no message)"
        return Result(proto, port, REFUSED, "%s %s" % (reply[1], message))
    _, ip, observed_port, arrived, _unix_time, receipt = reply
    message = "the portal saw you as %s" % _endpoint(ip, observed_port)
    if sent_to != port:
        message += " (sent to port %s)" % sent_to
    if arrived != "%s/%s" % (target_port, proto):
        message += " (arrived on %s)" % arrived
    message += " (receipt %s)" % receipt
    return Result(proto, port, OK, message)


def check_tcp(server, port, token, timeout, real_port=None):
    """Send the probe line over TCP to ``server`` and report what came back."""
    real_port = port if real_port is None else real_port
    line = ("%s %s %s\n" % (VERB, VERSION, token)).encode("ascii")
    hint = "(is outbound TCP %s allowed?)" % port
    try:
        sock = socket.create_connection((server, real_port), timeout)
    except socket.gaierror as exc:
        return Result("tcp", port, FAIL, "cannot resolve %s: %s" % (server, exc.strerror or exc))
    except socket.timeout:
        return Result(
            "tcp", port, FAIL, "no connection within %s s, timed out %s" % (_seconds(timeout), hint)
        )
    except ConnectionRefusedError:
        return Result("tcp", port, FAIL, "connection refused %s" % hint)
    except OSError as exc:
        return Result("tcp", port, FAIL, "cannot connect: %s %s" % (exc.strerror or exc, hint))
    try:
        deadline = time.monotonic() + timeout
        data = b""
        try:
            sock.sendall(line)
            while b"\n" not in data and len(data) <= MAX_LINE:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                sock.settimeout(left)
                chunk = sock.recv(MAX_LINE + 1 - len(data))
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            if not data:
                return Result(
                    "tcp",
                    port,
                    FAIL,
                    "connected, but no answer within %s s "
                    "(is something else listening, or is TLS inspection in the way?)"
                    % _seconds(timeout),
                )
        except OSError as exc:
            if not data:
                return Result(
                    "tcp",
                    port,
                    FAIL,
                    "connected, then the connection failed: %s" % (exc.strerror or exc),
                )
        if not data:
            return Result(
                "tcp",
                port,
                FAIL,
                "connected, but the other side closed without an "
                "answer (a proxy or another service on this port?)",
            )
        result = _judge("tcp", port, data, real_port, real_port)
        if result is None:
            return Result(
                "tcp",
                port,
                FAIL,
                "unexpected answer %s (is this the portal's probe server?)" % _shown(data),
            )
        return result
    finally:
        sock.close()


def check_udp(server, port, token, timeout, real_port=None, attempts=UDP_ATTEMPTS):
    """Send the probe line as UDP datagrams (up to ``attempts``) and report the answer.

    A name with several addresses is tried in turn while the answer is "port unreachable".
    """
    real_port = port if real_port is None else real_port
    try:
        infos = socket.getaddrinfo(server, real_port, 0, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        return Result("udp", port, FAIL, "cannot resolve %s: %s" % (server, exc.strerror or exc))
    seen = []
    result = None
    for family, kind, proto, _, address in infos:
        if address in seen:
            continue
        seen.append(address)
        result = _check_udp_address(
            family, kind, proto, address, port, token, timeout, real_port, attempts
        )
        if result is not _UNREACHABLE:
            return result
    return Result(
        "udp",
        port,
        FAIL,
        "port unreachable: nothing answers on UDP %s at the server "
        "(or a firewall rejected it)" % port,
    )


_UNREACHABLE = object()


def _check_udp_address(family, kind, proto, address, port, token, timeout, real_port, attempts):
    line = ("%s %s %s\n" % (VERB, VERSION, token)).encode("ascii")
    sock = socket.socket(family, kind, proto)
    try:
        try:
            sock.connect(address)  # connected: only the server's datagrams are delivered
        except OSError as exc:
            return Result("udp", port, FAIL, "cannot send: %s" % (exc.strerror or exc))
        start = time.monotonic()
        deadline = start + timeout
        interval = timeout / attempts
        sent = 0
        next_send = start
        replayed = None
        unexpected = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if sent < attempts and now >= next_send:
                try:
                    sock.send(line)
                except ConnectionRefusedError:
                    return _UNREACHABLE
                except OSError as exc:
                    return Result("udp", port, FAIL, "cannot send: %s" % (exc.strerror or exc))
                sent += 1
                next_send = now + interval
            wake = deadline if sent >= attempts else min(next_send, deadline)
            sock.settimeout(max(wake - now, 0.001))
            try:
                data = sock.recv(2048)
            except socket.timeout:
                continue
            except (ConnectionRefusedError, ConnectionResetError):
                return _UNREACHABLE  # ICMP port unreachable (Linux: refused; Windows: reset)
            except OSError as exc:
                return Result("udp", port, FAIL, "receive failed: %s" % (exc.strerror or exc))
            result = _judge("udp", port, data, real_port, real_port)
            if result is None:
                unexpected = data
                continue
            if result.status == REFUSED and result.message.startswith("REPLAYED") and sent > 1:
                # An earlier datagram of ours got through; keep waiting for its answer.
                replayed = result
                continue
            return result
        if replayed is not None:
            return Result(
                "udp",
                port,
                FAIL,
                "an earlier datagram reached the portal (it called a "
                "retry REPLAYED), but its answer never came back: are UDP replies "
                "let back in? The rollout page shows what the portal recorded",
            )
        if unexpected is not None:
            return Result(
                "udp",
                port,
                FAIL,
                "unexpected answer %s (is this the portal's probe server?)" % _shown(unexpected),
            )
        return Result(
            "udp",
            port,
            FAIL,
            "no answer within %s s (UDP blocked, or the port is not "
            "forwarded; is outbound UDP %s allowed?)" % (_seconds(timeout), port),
        )
    finally:
        sock.close()


def run_check(args):
    tcp_ports, udp_ports = args.tcp, args.udp
    if tcp_ports is None and udp_ports is None:
        tcp_ports = list(DEFAULT_CHECK_TCP)
    tcp_ports = tcp_ports or []
    udp_ports = udp_ports or []
    port_map = args.port_map or {}
    _say(
        "Checking %s: sending only the probe token (timeout %s s per port)"
        % (args.server, _seconds(args.timeout))
    )
    results = []
    for port in tcp_ports:
        result = check_tcp(
            args.server, port, args.token, args.timeout, port_map.get(("tcp", port), port)
        )
        _say(result.line())
        results.append(result)
    for port in udp_ports:
        result = check_udp(
            args.server, port, args.token, args.timeout, port_map.get(("udp", port), port)
        )
        _say(result.line())
        results.append(result)
    failed = [r for r in results if r.status != OK]
    if failed:
        _say("Result: %d of %d ports NOT proven open." % (len(failed), len(results)))
        return 1
    _say("Result: all %d ports OK." % len(results))
    return 0


# --------------------------------------------------------------------------------------------
# listen: the portal -> this host (through the firewall's port-forward)


class _Listener:
    def __init__(self, token):
        self.token = token
        self.expected = ("%s %s %s" % (VERB, VERSION, token)).encode("ascii")
        self.ok_answer = ("OK %s\n" % token).encode("ascii")
        self.mismatch = b"ERR MISMATCH\n"
        self.selector = selectors.DefaultSelector()
        self.sockets = []
        self.connections = {}  # socket -> [buffer, deadline, peer, port]
        self.proven = 0
        self.answered = 0

    def bind(self, host, port, kind):
        infos = socket.getaddrinfo(host, port, 0, kind, 0, socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            if kind == socket.SOCK_STREAM and os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            if kind == socket.SOCK_STREAM:
                sock.listen(16)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        bound = sock.getsockname()
        name = "tcp" if kind == socket.SOCK_STREAM else "udp"
        self.sockets.append(sock)
        self.selector.register(sock, selectors.EVENT_READ, (name + "-listen", bound[1]))
        return bound[0], bound[1]

    def close(self):
        for sock in list(self.connections):
            self._drop(sock)
        for sock in self.sockets:
            with contextlib.suppress(KeyError, ValueError):  # never registered, or closed
                self.selector.unregister(sock)
            sock.close()
        self.sockets = []
        self.selector.close()

    def _drop(self, sock):
        self.connections.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):  # never registered, or closed
            self.selector.unregister(sock)
        sock.close()

    def _report(self, proto, port, peer, matched, data):
        stamp = time.strftime("%H:%M:%S")
        source = _endpoint(peer[0], peer[1])
        if matched:
            _say(
                "%s  %-3s %-5s OK        probe from %s carried this token (answered OK)"
                % (stamp, proto.upper(), port, source)
            )
        else:
            _say(
                "%s  %-3s %-5s MISMATCH  from %s: %s is not this probe's token line "
                "(answered ERR MISMATCH)"
                % (stamp, proto.upper(), port, source, _shown(_strip_line(data), 60))
            )

    def _answer(self, data):
        """(answer bytes, matched) for one received line (with or without its ending)."""
        if len(data) <= MAX_LINE and _strip_line(data) == self.expected:
            return self.ok_answer, True
        return self.mismatch, False

    def serve(self, duration):
        end = time.monotonic() + duration
        while True:
            now = time.monotonic()
            if now >= end:
                return
            wake = end
            for sock, state in list(self.connections.items()):
                if state[1] <= now:
                    self._drop(sock)  # no full line in time: close, unanswered
                else:
                    wake = min(wake, state[1])
            for key, _ in self.selector.select(min(wake - now, 0.5)):
                kind, port = key.data
                try:
                    if kind == "tcp-listen":
                        self._accept(key.fileobj, port)
                    elif kind == "udp-listen":
                        self._datagram(key.fileobj, port)
                    else:
                        self._readable(key.fileobj)
                except OSError:
                    if kind == "tcp":
                        self._drop(key.fileobj)

    def _accept(self, listener, port):
        try:
            conn, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if len(self.connections) >= MAX_CONNECTIONS:
            conn.close()
            return
        conn.setblocking(False)
        self.connections[conn] = [b"", time.monotonic() + CONN_TIMEOUT, peer, port]
        self.selector.register(conn, selectors.EVENT_READ, ("tcp", port))

    def _readable(self, conn):
        state = self.connections.get(conn)
        if state is None:
            return
        try:
            chunk = conn.recv(MAX_LINE + 1 - len(state[0]))
        except (BlockingIOError, InterruptedError):
            return
        if not chunk:
            self._drop(conn)  # closed before a full line: nothing to answer
            return
        state[0] += chunk
        end = state[0].find(b"\n")
        if end == -1 and len(state[0]) < MAX_LINE:
            return  # wait for the rest of the line
        line = state[0] if end == -1 else state[0][: end + 1]
        answer, matched = self._answer(line)
        with contextlib.suppress(OSError):  # the prober left already: nothing to answer
            conn.send(answer)  # at most 256 bytes into an empty send buffer
        self._count(matched)
        self._report("tcp", state[3], state[2], matched, line)
        self._drop(conn)

    def _datagram(self, sock, port):
        try:
            data, peer = sock.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # e.g. Windows reports an earlier ICMP error here; keep listening
        if not data or len(data) > MAX_LINE:
            return
        answer, matched = self._answer(data)
        if len(answer) > len(data):
            return  # never answer a datagram with more bytes than it carried (no reflection)
        try:
            sock.sendto(answer, peer)
        except OSError:
            return
        self._count(matched)
        self._report("udp", port, peer, matched, data)

    def _count(self, matched):
        self.answered += 1
        if matched:
            self.proven += 1


def run_listen(args):
    tcp_ports, udp_ports = args.tcp, args.udp
    if tcp_ports is None and udp_ports is None:
        tcp_ports, udp_ports = list(DEFAULT_LISTEN_TCP), list(DEFAULT_LISTEN_UDP)
    tcp_ports = tcp_ports or []
    udp_ports = udp_ports or []
    listener = _Listener(args.token)
    try:
        for kind, ports in ((socket.SOCK_STREAM, tcp_ports), (socket.SOCK_DGRAM, udp_ports)):
            name = "TCP" if kind == socket.SOCK_STREAM else "UDP"
            for port in ports:
                try:
                    host, bound = listener.bind(args.bind, port, kind)
                except OSError as exc:
                    _say(
                        "cannot listen on %s %s at %s: %s (is the backup software's own service "
                        "using this port? stop it while you check; ports below 1024 need "
                        "administrator rights)" % (name, port, args.bind, exc.strerror or exc)
                    )
                    return 1
                _say("listening on %s %s" % (name, _endpoint(host, bound)))
        _say(
            "waiting up to %s s for the portal's probes; only this token gets an OK answer "
            "(Ctrl-C to stop)" % _seconds(args.duration)
        )
        try:
            listener.serve(args.duration)
            _say("stopped: %s s are over" % _seconds(args.duration))
        except KeyboardInterrupt:
            _say("stopped (Ctrl-C)")
    finally:
        listener.close()
    if listener.proven:
        _say("Result: answered %d valid probe(s)." % listener.proven)
        return 0
    _say(
        "Result: no valid probe arrived (is the port-forward to this host in place, and does "
        "this host's own firewall allow the ports?)"
    )
    return 1


# --------------------------------------------------------------------------------------------
# Command line


def _token(value):
    if not TOKEN_RE.match(value):
        raise argparse.ArgumentTypeError(
            "a token is 1-243 characters of letters, digits, '.', '_' and '-'; copy it again "
            "from the rollout page"
        )
    return value


def _agent_key(value):
    if not AGENT_KEY_RE.match(value.strip()):
        raise argparse.ArgumentTypeError(
            "an agent key looks like obmk.<site>.<version>.<22 characters>; copy it again from "
            "the site page"
        )
    return value.strip()


def _port(text, allow_zero=False):
    text = text.strip()
    if not text.isdigit():
        raise argparse.ArgumentTypeError("not a port number: %r" % text)
    number = int(text)
    if not (0 if allow_zero else 1) <= number <= 65535:
        raise argparse.ArgumentTypeError("port out of range: %s" % number)
    return number


def _port_list(allow_zero):
    def parse(value):
        ports = []
        for part in value.split(","):
            if part.strip():
                port = _port(part, allow_zero)
                if port not in ports:
                    ports.append(port)
        return ports

    return parse


def _port_map_entry(value):
    """``tcp/4401=14401[,udp/4403=14403]`` -> {("tcp", 4401): 14401, ...}."""
    mapping = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        left, eq, right = part.partition("=")
        proto, slash, port = left.partition("/")
        proto = proto.strip().lower()
        if not eq or not slash or proto not in ("tcp", "udp"):
            raise argparse.ArgumentTypeError(
                "expected PROTO/PORT=REAL_PORT such as tcp/4401=14401, not %r" % part
            )
        mapping[(proto, _port(port))] = _port(right)
    return mapping


def _positive(value):
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % value) from None
    if not number > 0 or number > 86400:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 86400 seconds")
    return number


class _Parser(argparse.ArgumentParser):
    """The command line parser, holding each mode's parser so main reports errors with its usage."""

    check_parser: argparse.ArgumentParser
    listen_parser: argparse.ArgumentParser


def build_parser():
    parser = _Parser(
        prog="obm_probe.py",
        description="Prove that the online-backup ports are open through your firewall. Sends "
        "nothing but the one-time token from your rollout page.",
    )
    parser.add_argument("--version", action="version", version="obm_probe " + __version__)
    sub = parser.add_subparsers(dest="mode", metavar="{check,listen}")
    sub.required = True

    check = sub.add_parser(
        "check",
        help="outbound: connect to the portal's probe service on each port",
        description="Connect to the portal's probe service on each port and print what it saw. "
        "Without --tcp and --udp, checks TCP 4401. Run it on the backup host; to prove other "
        "machines are kept out, on another computer of the LAN (not the backup host).",
    )
    check.add_argument("--server", help="the probe server from the rollout page")
    check.add_argument("--token", type=_token, help="the one-time probe token")
    check.add_argument(
        "--agent-key",
        type=_agent_key,
        metavar="KEY",
        help="instead of --server and --token: the site's agent key; the portal "
        "(--portal) gives a new token, server and ports each time (scheduled "
        "re-verification)",
    )
    check.add_argument("--portal", metavar="URL", help="the portal's address, with --agent-key")
    check.add_argument(
        "--tcp",
        type=_port_list(False),
        metavar="PORTS",
        help="TCP ports, comma separated (default 4401 when --udp is not given)",
    )
    check.add_argument(
        "--udp", type=_port_list(False), metavar="PORTS", help="UDP ports, comma separated"
    )
    check.add_argument(
        "--timeout",
        type=_positive,
        default=5.0,
        metavar="SECONDS",
        help="time to wait per port (default 5)",
    )
    check.add_argument(
        "--port-map",
        type=_port_map_entry,
        action="append",
        metavar="MAP",
        help="labs and tests: send the probe for PROTO/PORT to REAL_PORT instead, "
        "e.g. tcp/4401=14401 (repeatable, or comma separated)",
    )

    parser.check_parser = check
    listen = sub.add_parser(
        "listen",
        help="inbound: answer the portal's probe on the forwarded monitoring ports",
        description="Answer the portal's inbound probe on each port. Without --tcp and --udp, "
        "listens on TCP 4403 and UDP 4403. Run it on the backup host.",
    )
    listen.add_argument("--token", required=True, type=_token, help="the one-time probe token")
    listen.add_argument(
        "--tcp",
        type=_port_list(True),
        metavar="PORTS",
        help="TCP ports, comma separated (0 picks a free port)",
    )
    listen.add_argument(
        "--udp",
        type=_port_list(True),
        metavar="PORTS",
        help="UDP ports, comma separated (0 picks a free port)",
    )
    listen.add_argument(
        "--bind",
        default="0.0.0.0",
        help="local address to listen on (default 0.0.0.0, all IPv4 addresses; use :: for IPv6)",
    )
    listen.add_argument(
        "--duration",
        type=_positive,
        default=600.0,
        metavar="SECONDS",
        help="stop after this many seconds (default 600)",
    )
    parser.listen_parser = listen
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.mode == "check":
        merged = {}  # entries for ports not checked are allowed (one map for a whole lab)
        for mapping in args.port_map or []:
            merged.update(mapping)
        if not (args.tcp or args.udp) and (args.tcp is not None or args.udp is not None):
            parser.check_parser.error("no ports to check")
        args.port_map = merged
        if args.agent_key:
            if not args.portal or args.server or args.token:
                parser.check_parser.error(
                    "--agent-key goes with --portal, without --server and --token"
                )
            try:
                run = fetch_agent_run(args.portal, args.agent_key, args.timeout + 10)
            except AgentError as exc:
                _say("FAIL  %s" % exc)
                return 1
            if run.get("due") is False:
                _say(
                    "Not due: the site's proof is fresh until %s (the portal decides, by the "
                    "site's re-verification schedule)." % run.get("fresh_until", "?")
                )
                return 0
            args.server, args.token = run["server"], run["token"]
            if args.tcp is None and args.udp is None:
                args.tcp, args.udp = run["tcp"], run["udp"]
            _say("The portal opened probe run #%s for this site." % run.get("run", "?"))
        elif not (args.server and args.token):
            parser.check_parser.error("give --server and --token (or --agent-key and --portal)")
        return run_check(args)
    if not (args.tcp or args.udp) and (args.tcp is not None or args.udp is not None):
        parser.listen_parser.error("no ports to listen on")
    return run_listen(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(1)
