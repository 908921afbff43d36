"""The probe clients (sites/probes/clients) against real sockets on loopback.

- ``obm_probe.py check`` and the POSIX snippet run for real, as separate processes, against the
  real :class:`ProbeResponder` (in a background thread with its own event loop, ephemeral ports;
  the script reaches them through ``--port-map``);
- ``obm_probe.py listen`` is probed with real TCP and UDP sockets from the test, and by the
  portal's own inbound checker (``sites.probes.inbound.check_inbound``);
- the snippet functions refuse anything that could carry shell or PowerShell syntax.

PowerShell (pwsh) is not installed on these machines, so the PowerShell snippets are checked as
text only: what they must contain, and that the template filled in cleanly.
"""

import ast
import asyncio
import contextlib
import glob
import itertools
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from ipaddress import IPv4Address

import pytest

from sites.probes.clients import SCRIPT_PATH, script_source, snippets
from sites.probes.inbound import InboundTarget, Outcome, check_inbound
from sites.probes.responder import MemorySink, ProbeResponder
from sites.probes.tokens import issue_token, verify_receipt

KEY = b"test-clients-probe-key-0123456789"
HOST = "127.0.0.1"
SCRIPT = str(SCRIPT_PATH)
_run_ids = itertools.count(1000)


def token(key=KEY, lifetime=600):
    return issue_token(key, next(_run_ids), int(time.time()) + lifetime)


def run_id_of(tok):
    return int(tok.split(".")[0])


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run_script(*args, python=sys.executable, timeout=20):
    return subprocess.run(
        [python, SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env=clean_env()
    )


# --- the real responder, in a thread with its own event loop -----------------------------------


class ResponderThread:
    def __init__(self, listeners):
        self.sink = MemorySink()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.listeners = listeners

    def _call(self, coroutine, timeout=10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self):
        self.thread.start()

        async def start():
            # Created on its loop; a generous rate limit, since every test probes from 127.0.0.1.
            self.responder = ProbeResponder(
                KEY, self.listeners, self.sink, rate_per_source=(10_000, 10_000.0)
            )
            await self.responder.start()

        self._call(start())
        return self

    def stop(self):
        self._call(self.responder.stop(grace=1.0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def port(self, proto, index=0):
        return self.responder.endpoint(proto, index).port

    def observations(self, tok):
        return [o for o in list(self.sink.observations) if o.run_id == run_id_of(tok)]


@pytest.fixture(scope="module")
def responder():
    running = ResponderThread([(HOST, 0, "tcp"), (HOST, 0, "tcp"), (HOST, 0, "udp")]).start()
    yield running
    running.stop()


def port_map(responder):
    """Profile ports (TCP 4401 and 4403, UDP 4403) -> the responder's ephemeral ports."""
    return [
        "--port-map",
        f"tcp/4401={responder.port('tcp', 0)},tcp/4403={responder.port('tcp', 1)}",
        "--port-map",
        f"udp/4403={responder.port('udp')}",
    ]


def result_lines(stdout):
    return [line for line in stdout.splitlines() if re.match(r"(TCP|UDP) ", line)]


# --- obm_probe.py check ------------------------------------------------------------------------


def _python38():
    candidates = [shutil.which("python3.8")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3.8")))
    for candidate in filter(None, candidates):
        check = "import sys; assert sys.version_info[:2] == (3, 8)"
        probe = subprocess.run([candidate, "-c", check], capture_output=True, env=clean_env())
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("interpreter", ["current", "python3.8"])
def test_check_proves_tcp_and_udp_with_a_valid_token(responder, interpreter):
    python = sys.executable if interpreter == "current" else _python38()
    if python is None:
        pytest.skip("no Python 3.8 interpreter here to prove the script's 3.8 compatibility")
    tok = token()
    result = run_script(
        "check",
        "--server",
        HOST,
        "--token",
        tok,
        "--tcp",
        "4401,4403",
        "--udp",
        "4403",
        *port_map(responder),
        python=python,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result_lines(result.stdout)
    assert [line[:16] for line in lines] == [
        "TCP 4401  OK    ",
        "TCP 4403  OK    ",
        "UDP 4403  OK    ",
    ]
    assert "Result: all 3 ports OK." in result.stdout
    seen = {(o.protocol, o.port): o for o in responder.observations(tok)}
    assert {o.outcome for o in seen.values()} == {"ok"}
    for line, (proto, index) in zip(lines, [("tcp", 0), ("tcp", 1), ("udp", 0)], strict=True):
        observation = seen[(proto, responder.port(proto, index))]
        # The line shows what the responder recorded, and the receipt it signed for it.
        assert f"the portal saw you as 127.0.0.1:{observation.observed_port} " in line
        assert f"(receipt {observation.receipt})" in line
        assert verify_receipt(
            KEY,
            observation.receipt,
            tok,
            "127.0.0.1",
            observation.observed_port,
            observation.port,
            proto,
            int(observation.received_at),
        )


def test_check_reports_refused_for_expired_unknown_and_replayed_tokens(responder):
    expired = token(lifetime=-60)
    result = run_script(
        "check",
        "--server",
        HOST,
        "--token",
        expired,
        "--tcp",
        "4401",
        "--udp",
        "4403",
        *port_map(responder),
    )
    assert result.returncode == 1
    assert result_lines(result.stdout) == [
        "TCP 4401  REFUSED EXPIRED token expired; start a new probe run",
        "UDP 4403  REFUSED EXPIRED token expired; start a new probe run",
    ]
    assert {o.outcome for o in responder.observations(expired)} == {"EXPIRED"}

    unknown = token(key=b"another portal's key")
    result = run_script(
        "check", "--server", HOST, "--token", unknown, "--udp", "4403", *port_map(responder)[2:]
    )
    assert result.returncode == 1
    assert result_lines(result.stdout) == [
        "UDP 4403  REFUSED UNKNOWN token not issued by this portal, or altered"
    ]

    used = token()
    args = ["check", "--server", HOST, "--token", used, "--tcp", "4401", *port_map(responder)[:2]]
    assert run_script(*args).returncode == 0
    again = run_script(*args)
    assert again.returncode == 1
    assert result_lines(again.stdout) == [
        "TCP 4401  REFUSED REPLAYED token already used on this port and protocol"
    ]


def test_check_reports_fail_for_closed_and_silent_ports():
    refusing = socket.socket()  # bound, not listening: a connect is reset
    refusing.bind((HOST, 0))
    silent_tcp = socket.socket()  # accepts (backlog), never answers
    silent_tcp.bind((HOST, 0))
    silent_tcp.listen()
    silent_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # swallows datagrams
    silent_udp.bind((HOST, 0))
    gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # closed: ICMP port unreachable
    gone.bind((HOST, 0))
    closed_udp = gone.getsockname()[1]
    gone.close()
    try:
        started = time.monotonic()
        result = run_script(
            "check",
            "--server",
            HOST,
            "--token",
            token(),
            "--tcp",
            "4401,4403",
            "--udp",
            "4403,4404",
            "--timeout",
            "0.6",
            "--port-map",
            f"tcp/4401={refusing.getsockname()[1]}",
            "--port-map",
            f"tcp/4403={silent_tcp.getsockname()[1]}",
            "--port-map",
            f"udp/4403={closed_udp},udp/4404={silent_udp.getsockname()[1]}",
        )
        elapsed = time.monotonic() - started
    finally:
        for sock in (refusing, silent_tcp, silent_udp):
            sock.close()
    assert result.returncode == 1
    lines = result_lines(result.stdout)
    assert lines[0] == "TCP 4401  FAIL  connection refused (is outbound TCP 4401 allowed?)"
    assert lines[1].startswith("TCP 4403  FAIL  connected, but no answer within 0.6 s")
    assert lines[2].startswith("UDP 4403  FAIL  port unreachable: nothing answers on UDP 4403")
    assert lines[3].startswith("UDP 4404  FAIL  no answer within 0.6 s (UDP blocked")
    assert "Result: 4 of 4 ports NOT proven open." in result.stdout
    assert elapsed < 5


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["check", "--server", HOST, "--token", "1.2;reboot"], "argument --token"),
        (["check", "--server", HOST, "--token", "a" * 244], "argument --token"),
        (["check", "--server", HOST, "--token", "tok", "--tcp", "70000"], "port out of range"),
        (["check", "--server", HOST, "--token", "tok", "--udp", "x"], "not a port number"),
        (["check", "--server", HOST, "--token", "tok", "--port-map", "udp/4403=0"], "out of range"),
        (["check", "--server", HOST, "--token", "tok", "--port-map", "4401=1"], "PROTO/PORT"),
        (["check", "--token", "tok"], "--server"),
        (["listen", "--token", "tok", "--duration", "0"], "more than 0"),
        ([], "required"),
    ],
)
def test_bad_usage_exits_2(args, complaint):
    result = run_script(*args)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_script_is_one_python38_stdlib_file():
    source = script_source()
    assert source.startswith(b"#!/usr/bin/env python3\n")
    tree = ast.parse(source, feature_version=(3, 8))  # no syntax newer than 3.8
    doc = ast.get_docstring(tree)
    assert "sends nothing but the probe token" in doc.replace("\n", " ")
    assert "python3 obm_probe.py check" in doc and "obm_probe.py listen" in doc
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module != "__future__"
            imported.add(node.module.split(".")[0])
    assert imported and imported <= set(sys.stdlib_module_names), imported


# --- POSIX snippet, run for real --------------------------------------------------------------


def run_shell(shell, text, env=None, timeout=20):
    return subprocess.run(
        [shell, "-c", text], capture_output=True, text=True, timeout=timeout, env=env or clean_env()
    )


def test_posix_snippet_passes_tcp_with_bash_dev_tcp(responder):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    tok, tcp_port = token(), responder.port("tcp")
    result = run_shell(bash, snippets.posix_check(HOST, tok, [tcp_port], [], timeout=3))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result_lines(result.stdout)[0].startswith(
        f"TCP {tcp_port} OK    the portal saw you as 127.0.0.1:"
    )
    assert [(o.port, o.protocol, o.outcome) for o in responder.observations(tok)] == [
        (tcp_port, "tcp", "ok")
    ]

    # Closed port: fails, non-zero.
    closed = socket.socket()
    closed.bind((HOST, 0))
    try:
        result = run_shell(
            bash, snippets.posix_check(HOST, token(), [closed.getsockname()[1]], [], timeout=2)
        )
    finally:
        closed.close()
    assert result.returncode == 1
    assert "FAIL  connection refused" in result.stdout


def _plain_sh():
    """A POSIX sh that is not bash (so the snippet takes its nc path)."""
    for name in ("dash", "sh"):
        path = shutil.which(name)
        if path and "bash" not in os.path.realpath(path):
            return path
    return None


def test_posix_snippet_passes_tcp_and_udp_with_sh_and_nc(responder):
    sh = _plain_sh()
    if sh is None:
        pytest.skip("no POSIX sh other than bash here (dash), so the nc path cannot be exercised")
    if shutil.which("nc") is None:
        pytest.skip("nc (netcat) is not installed: apt-get install -y netcat-openbsd")
    tok = token()
    tcp_port, udp_port = responder.port("tcp"), responder.port("udp")
    result = run_shell(sh, snippets.posix_check(HOST, tok, [tcp_port], [udp_port], timeout=3))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result_lines(result.stdout)
    assert lines[0].startswith(f"TCP {tcp_port} OK    the portal saw you as 127.0.0.1:")
    assert lines[1].startswith(f"UDP {udp_port} OK    the portal saw you as 127.0.0.1:")
    assert {(o.protocol, o.outcome) for o in responder.observations(tok)} == {
        ("tcp", "ok"),
        ("udp", "ok"),
    }


def test_posix_snippet_says_what_to_do_without_bash_or_nc(tmp_path):
    sh = _plain_sh()
    if sh is None:
        pytest.skip("no POSIX sh other than bash here (dash)")
    for tool in ("tr", "head", "sleep"):  # what the snippet may use besides nc
        if shutil.which(tool):
            (tmp_path / tool).symlink_to(shutil.which(tool))
    tok = token()
    result = run_shell(
        sh, snippets.posix_check(HOST, tok, [4401], [4403]), env=clean_env(PATH=str(tmp_path))
    )
    assert result.returncode == 1
    assert "TCP 4401  FAIL  cannot check TCP from this shell: neither bash nor nc" in result.stdout
    assert "UDP 4403  FAIL  UDP cannot be checked from this shell" in result.stdout
    assert f"python3 obm_probe.py check --server '{HOST}' --token '{tok}'" in result.stdout


def test_python_command_runs_the_downloaded_script(responder):
    tok = token()
    command = snippets.python_command(
        HOST,
        tok,
        [4401],
        [4403],
        port_map={("tcp", 4401): responder.port("tcp"), "udp/4403": responder.port("udp")},
    )
    assert command.startswith(
        f"python3 obm_probe.py check --server '{HOST}' --token '{tok}' "
        "--tcp 4401 --udp 4403 --port-map 'tcp/4401="
    )
    words = shlex.split(command)
    result = subprocess.run(
        [sys.executable, SCRIPT, *words[2:]],
        capture_output=True,
        text=True,
        timeout=20,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line[:16] for line in result_lines(result.stdout)] == [
        "TCP 4401  OK    ",
        "UDP 4403  OK    ",
    ]


# --- obm_probe.py listen ----------------------------------------------------------------------


class Listening:
    """``obm_probe.py listen`` in a subprocess on loopback, with its output read line by line."""

    def __init__(self, tok, *args, duration="15"):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                SCRIPT,
                "listen",
                "--token",
                tok,
                "--bind",
                HOST,
                "--duration",
                duration,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(),
        )
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"exited before {pattern!r}; saw {self.seen}")
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def ready(self):
        tcp = int(self.wait_for(r"listening on TCP 127\.0\.0\.1:(\d+)").group(1))
        udp = int(self.wait_for(r"listening on UDP 127\.0\.0\.1:(\d+)").group(1))
        self.wait_for("waiting up to")
        return tcp, udp

    def finish(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(10)
        while (line := self.lines.get(timeout=5)) is not None:
            self.seen.append(line)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def tcp_exchange(port, data, shut=False):
    with socket.create_connection((HOST, port), timeout=3) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):  # the answer ends there
            while chunk := sock.recv(512):
                answer += chunk
        return answer


def udp_exchange(port, data, wait=1.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait)
        sock.sendto(data, (HOST, port))
        try:
            return sock.recv(512)
        except TimeoutError:
            return None


def test_listen_answers_real_tcp_and_udp_probes():
    tok = token()
    listening = Listening(tok, "--tcp", "0", "--udp", "0")
    try:
        tcp_port, udp_port = listening.ready()
        right, wrong = f"OBM-PROBE 1 {tok}\n".encode(), f"OBM-PROBE 1 {token()}\n".encode()
        assert tcp_exchange(tcp_port, right) == f"OK {tok}\n".encode()
        assert tcp_exchange(tcp_port, right.replace(b"\n", b"\r\n")) == f"OK {tok}\n".encode()
        assert tcp_exchange(tcp_port, wrong) == b"ERR MISMATCH\n"
        assert udp_exchange(udp_port, right) == f"OK {tok}\n".encode()
        assert udp_exchange(udp_port, wrong) == b"ERR MISMATCH\n"
        assert udp_exchange(udp_port, right[:-1]) == f"OK {tok}\n".encode()  # no newline: fine
        # Garbage never crashes it: binary, no newline then close, too long, empty, tiny datagram.
        assert tcp_exchange(tcp_port, b"\x00\xff\x1b[2J\n") == b"ERR MISMATCH\n"
        assert tcp_exchange(tcp_port, b"OBM-PROBE 1 " + tok.encode(), shut=True) == b""
        assert tcp_exchange(tcp_port, b"A" * 300 + b"\n") in (b"", b"ERR MISMATCH\n")
        assert tcp_exchange(tcp_port, b"", shut=True) == b""
        assert udp_exchange(udp_port, b"x", wait=0.3) is None  # never more bytes than it got
        assert udp_exchange(udp_port, b"B" * 1000, wait=0.3) is None
        # Still answering after all that.
        assert tcp_exchange(tcp_port, right) == f"OK {tok}\n".encode()
        listening.wait_for(rf"TCP {tcp_port} +OK +probe from 127\.0\.0\.1:\d+")
        listening.wait_for(rf"UDP {udp_port} +OK +probe from 127\.0\.0\.1:\d+")
        assert listening.finish() == 0
    finally:
        listening.kill()
    output = "\n".join(listening.seen)
    assert "stopped (Ctrl-C)" in output
    assert re.search(rf"TCP {tcp_port} +MISMATCH +from 127\.0\.0\.1:\d+", output)
    assert re.search(rf"UDP {udp_port} +MISMATCH +from 127\.0\.0\.1:\d+", output)
    assert "Result: answered 5 valid probe(s)." in output


def test_listen_is_proven_by_the_portals_inbound_check():
    tok = token()
    listening = Listening(tok, "--tcp", "0", "--udp", "0")
    try:
        tcp_port, udp_port = listening.ready()
        address = IPv4Address(HOST)
        results = asyncio.run(
            check_inbound(
                [
                    InboundTarget(address, tcp_port, "tcp", tok),
                    InboundTarget(address, udp_port, "udp", tok),
                    InboundTarget(address, tcp_port, "tcp", token()),
                    InboundTarget(address, udp_port, "udp", token()),
                ],
                connect_timeout=2.0,
                udp_timeout=1.0,
                udp_retries=1,
            )
        )
        assert [r.outcome for r in results] == [
            Outcome.PROVEN,
            Outcome.PROVEN,
            Outcome.MISMATCH,
            Outcome.MISMATCH,
        ]
        assert listening.finish() == 0
    finally:
        listening.kill()


def test_listen_exits_1_without_a_valid_probe_or_when_the_port_is_taken():
    listening = Listening(token(), "--tcp", "0", duration="0.3")
    try:
        listening.wait_for("listening on TCP")
        assert listening.proc.wait(5) == 1
        listening.finish()
    finally:
        listening.kill()
    assert "Result: no valid probe arrived" in "\n".join(listening.seen)

    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        result = run_script(
            "listen",
            "--token",
            token(),
            "--bind",
            HOST,
            "--tcp",
            str(taken.getsockname()[1]),
            "--duration",
            "5",
        )
    assert result.returncode == 1
    assert "cannot listen on TCP" in result.stdout


# --- snippet functions ------------------------------------------------------------------------

SERVER = "probe.example.net"
TOKEN = "42.1767225600.q1w2e3r4t5y.AbCdEfGhIjKlMnOpQrStUv"


def every_snippet(server=SERVER, tok=TOKEN, tcp=(4401, 4403), udp=(4403,)):
    return [
        lambda: snippets.posix_check(server, tok, tcp, udp),
        lambda: snippets.powershell_check(server, tok, tcp, udp),
        lambda: snippets.python_command(server, tok, tcp, udp),
        lambda: snippets.posix_listen(tok, tcp, udp),
        lambda: snippets.powershell_listen(tok, tcp, udp),
        lambda: snippets.python_listen_command(tok, tcp, udp),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "a b",
        "a;b",
        "$(id)",
        "`id`",
        "a'b",
        'a"b',
        "a\nb",
        "a|b",
        "a&b",
        "a>b",
        "a\\b",
        "${IFS}",
        "tok\u2019",
        "t\u00f6k",
        "x" * 244,
        None,
        123,
    ],
)
def test_snippets_refuse_unsafe_tokens(bad):
    for make in every_snippet(tok=bad):
        with pytest.raises(ValueError):
            make()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "host;id",
        "$(id)",
        "`id`",
        "-oProxyCommand=x",
        "a b",
        "host\n",
        "a'b",
        'a"b',
        "fe80::1%eth0",
        "b\u00fccher.de",
        "host_name.example",
        "1.2.3.4;",
        None,
    ],
)
def test_snippets_refuse_unsafe_servers(bad):
    for make in every_snippet(server=bad)[:3]:
        with pytest.raises(ValueError):
            make()


@pytest.mark.parametrize(
    "tcp, udp",
    [
        ("4401", ()),
        ([True], ()),
        ([0], ()),
        ([70000], ()),
        (["4401"], ()),
        ([], []),
        (None, None),
        ([4401], [4403.0]),
    ],
)
def test_snippets_refuse_bad_ports(tcp, udp):
    for make in every_snippet(tcp=tcp, udp=udp):
        with pytest.raises(ValueError):
            make()


def test_snippets_accept_ip_literals_and_refuse_bad_port_maps():
    for server in ("192.0.2.1", "2001:db8::1", "probe-1.example.net"):
        assert f"'{server}'" in snippets.posix_check(server, TOKEN, [4401], [])
    with pytest.raises(ValueError):
        snippets.python_command(SERVER, TOKEN, [4401], [], port_map={("udp", 4403): 1})
    with pytest.raises(ValueError):
        snippets.python_command(SERVER, TOKEN, [4401], [], port_map={"tcp/4401": "1;id"})
    with pytest.raises(ValueError):
        snippets.python_command(SERVER, TOKEN, [4401], [], shell="fish")


def test_powershell_snippets_fill_in_token_and_ports():
    # pwsh is not installed on these machines: the text is checked, not run.
    check = snippets.powershell_check(SERVER, TOKEN, [4401, 4403], [4403])
    for needle in (
        f"$Server = '{SERVER}'",
        f"$Token = '{TOKEN}'",
        "$TcpPorts = @(4401, 4403)",
        "$UdpPorts = @(4403)",
        "System.Net.Sockets.TcpClient",
        "System.Net.Sockets.UdpClient",
        "exit 1",
        "$TimeoutMs = 5000",
    ):
        assert needle in check
    listen = snippets.powershell_listen(TOKEN, [4403], [4403], duration=300)
    for needle in (
        f"$Token = '{TOKEN}'",
        "System.Net.Sockets.TcpListener",
        "System.Net.Sockets.UdpClient",
        "exit 1",
        "$Seconds = 300",
        "ERR MISMATCH",
    ):
        assert needle in listen
    for text in (check, listen):
        assert "{{" not in text and "}}" not in text  # the template was filled in completely
        assert text.count("{") == text.count("}") and text.count("(") == text.count(")")


def test_posix_listen_recommends_the_script():
    text = snippets.posix_listen(TOKEN, [4403], [4403])
    assert (
        f"python3 obm_probe.py listen --token '{TOKEN}' --tcp 4403 --udp 4403 "
        "--duration 600" in text
    )
    assert "cannot answer a UDP" in text


@pytest.mark.parametrize("purpose", ["verify", "restriction", "inbound"])
def test_every_snippet_says_where_it_runs_as_its_purpose_needs(purpose):
    """Issue #13 (6): the restriction proof runs on another LAN computer, the outbound check and
    the inbound listener on the backup host; every snippet's opening comment says so, and the
    script's own help names both."""
    tok = token()
    if purpose == "inbound":
        where = snippets.BACKUP_HOST
        texts = [
            snippets.posix_listen(tok, [4403], [4403]),
            snippets.powershell_listen(tok, [4403], [4403]),
        ]
    else:
        where = snippets.where_it_runs(purpose)
        texts = [
            snippets.posix_check(HOST, tok, [4401], [], where=where),
            snippets.powershell_check(HOST, tok, [4401], [], where=where),
        ]
    expected = {
        "verify": snippets.BACKUP_HOST,
        "restriction": snippets.OTHER_LAN_COMPUTER,
        "inbound": snippets.BACKUP_HOST,
    }[purpose]
    assert where == expected
    other = snippets.OTHER_LAN_COMPUTER if where == snippets.BACKUP_HOST else snippets.BACKUP_HOST
    for text in texts:
        header = "\n".join(line for line in text.splitlines()[:3] if line.startswith("#"))
        assert where in header, text[:300]
        assert other not in text, text[:300]
    source = SCRIPT_PATH.read_text()
    assert "on another computer of the LAN (not the backup host)" in source
