"""Copy-paste probe commands for the rollout page, with server, ports and token filled in.

Pure functions, no I/O: each returns the text to show. Every value that ends up in the text is
checked first and refused with ``ValueError`` unless it is plainly safe (a token of
``[A-Za-z0-9._-]``, a host name or IP literal, integer ports), and is then quoted anyway, so no
value can ever inject shell or PowerShell syntax.

- :func:`powershell_check` / :func:`posix_check`: the outbound check (backup host -> probe server)
  in PowerShell (TcpClient/UdpClient) and in POSIX sh (bash ``/dev/tcp``, else ``nc``);
- :func:`powershell_listen` / :func:`posix_listen`: the inbound check's listening side (the
  POSIX one recommends the Python script, and says why);
- :func:`python_command` / :func:`python_listen_command`: the command line that runs the
  downloadable ``obm_probe.py`` (this folder), which speaks docs/probe-protocol.md exactly.

Wire format: the client sends ``OBM-PROBE 1 <token>\\n`` and reads one line,
``OK <ip> <port> <port>/<proto> <time> <receipt>`` or ``ERR <CODE> <message>``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from ipaddress import ip_address

__all__ = [
    "BACKUP_HOST",
    "OTHER_LAN_COMPUTER",
    "SCRIPT_NAME",
    "posix_check",
    "posix_listen",
    "powershell_check",
    "powershell_listen",
    "python_command",
    "python_listen_command",
    "validate_port_map",
    "validate_ports",
    "validate_server",
    "validate_token",
    "where_it_runs",
]

# Where a probe runs, in the same words in every snippet and on the page: the outbound check and
# the inbound listener on the backup host; the restriction proof on any other LAN computer, which
# the firewall must keep out.
BACKUP_HOST = "on the backup host"
OTHER_LAN_COMPUTER = "on another computer of the LAN (not the backup host)"


def where_it_runs(purpose: str) -> str:
    """Where the probe of ``purpose`` ("verify" or "restriction") runs, in words."""
    return OTHER_LAN_COMPUTER if purpose == "restriction" else BACKUP_HOST


SCRIPT_NAME = "obm_probe.py"
MAX_TOKEN = 243  # "OBM-PROBE 1 " + token + "\n" fits the protocol's 256 bytes
_TOKEN = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_TOKEN}}}", re.ASCII)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*", re.ASCII)
_SHELLS = ("posix", "powershell", "cmd")


# --- validation -------------------------------------------------------------------------------


def validate_token(token: object) -> str:
    """``token`` if it is 1-243 characters of ``[A-Za-z0-9._-]``; ValueError otherwise."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValueError("a probe token is 1-243 characters of letters, digits, '.', '_' and '-'")
    return token


def validate_server(server: object) -> str:
    """``server`` if it is a host name (letters, digits, '-', dots) or an IP literal."""
    if not isinstance(server, str):
        raise ValueError("the probe server must be a host name or an IP address")
    if _HOSTNAME.fullmatch(server):
        return server
    with contextlib.suppress(ValueError):  # not an IP literal either: refused below
        address = ip_address(server)
        if "%" not in server and str(address) == server.lower():
            return server
    raise ValueError(f"not a host name or IP address: {server!r}")


def validate_ports(ports: Iterable[int] | None, what: str = "ports") -> list[int]:
    """The ports as a list of ints in 1..65535 (duplicates dropped, order kept)."""
    if ports is None:
        return []
    if isinstance(ports, str | bytes) or not isinstance(ports, Iterable):
        raise ValueError(f"{what} must be a list of port numbers")
    result: list[int] = []
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{what}: not a port number: {port!r}")
        if port not in result:
            result.append(port)
    return result


def validate_port_map(
    port_map: Mapping[object, int] | None, tcp_ports: list[int], udp_ports: list[int]
) -> dict[tuple[str, int], int]:
    """``{("tcp", 4401): 14401}`` or ``{"tcp/4401": 14401}`` -> ``{("tcp", 4401): 14401}``.

    Every mapped port must be one of the ports checked.
    """
    if not port_map:
        return {}
    if not isinstance(port_map, Mapping):
        raise ValueError("port_map must map (protocol, port) to the real port")
    result: dict[tuple[str, int], int] = {}
    for key, real in port_map.items():
        if isinstance(key, str):
            proto, slash, number = key.partition("/")
            if not slash or not number.isascii() or not number.isdigit():
                raise ValueError(f"port_map key must look like 'tcp/4401', not {key!r}")
            key = (proto, int(number))
        if not isinstance(key, tuple) or len(key) != 2 or key[0] not in ("tcp", "udp"):
            raise ValueError(f"port_map key must be ('tcp'|'udp', port), not {key!r}")
        proto, port = key[0], validate_ports([key[1]], "port_map")[0]
        real = validate_ports([real], "port_map")[0]
        if port not in (tcp_ports if proto == "tcp" else udp_ports):
            raise ValueError(f"port_map names {proto}/{port}, which is not checked")
        result[(proto, port)] = real
    return result


def _timeout(value: object, what: str = "timeout", most: int = 300) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValueError(f"{what} must be a whole number of seconds, 1..{most}")
    return value


def _some_ports(tcp: list[int], udp: list[int]) -> None:
    if not tcp and not udp:
        raise ValueError("at least one TCP or UDP port is needed")


# --- quoting (values are validated first; quoting is the second line of defence) --------------


def _sh(value: str) -> str:
    """POSIX single-quoted word: nothing inside is special."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _ps(value: str) -> str:
    """PowerShell single-quoted (verbatim) string: only the quote itself needs doubling."""
    return "'" + re.sub(r"['\u2018\u2019\u201a\u201b]", "''", value) + "'"


def _cmd(value: str) -> str:
    return '"' + value + '"'  # cmd.exe: validated values hold no '"', '%', '^', '&', '|', '<', '>'


def _dq(value: str) -> str:
    """Text for inside POSIX double quotes; refuses what would be special there."""
    if re.search(r'[$`\\"!\n]', value):
        raise ValueError(f"unsafe inside double quotes: {value!r}")
    return value


def _quote(value: str, shell: str) -> str:
    return {"posix": _sh, "powershell": _ps, "cmd": _cmd}[shell](value)


def _ps_array(ports: list[int]) -> str:
    return "@(" + ", ".join(str(p) for p in ports) + ")"


def _exit_lines(indent: str = "") -> str:
    # Run as a file, exit sets the process status; pasted into a console, exit would close the
    # window, so there the status goes into $LASTEXITCODE instead.
    return f"{indent}if ($PSCommandPath) {{ exit 1 }} else {{ $global:LASTEXITCODE = 1 }}"


# --- Python script --------------------------------------------------------------------------


def python_command(
    server: str,
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    port_map: Mapping[object, int] | None = None,
    *,
    timeout: int | None = None,
    shell: str = "posix",
    script: str = SCRIPT_NAME,
) -> str:
    """The command that runs the downloaded script's outbound check.

    ``shell`` picks the quoting and interpreter name: "posix" (``python3``), "powershell" or
    "cmd" (``py``, the Windows launcher).
    """
    server, token = validate_server(server), validate_token(token)
    tcp, udp = validate_ports(tcp_ports, "tcp_ports"), validate_ports(udp_ports, "udp_ports")
    _some_ports(tcp, udp)
    mapping = validate_port_map(port_map, tcp, udp)
    words = _interpreter(shell, script) + [
        "check",
        "--server",
        _quote(server, shell),
        "--token",
        _quote(token, shell),
    ]
    if tcp:
        words += ["--tcp", ",".join(map(str, tcp))]
    if udp:
        words += ["--udp", ",".join(map(str, udp))]
    if timeout is not None:
        words += ["--timeout", str(_timeout(timeout))]
    for (proto, port), real in mapping.items():
        words += ["--port-map", _quote(f"{proto}/{port}={real}", shell)]
    return " ".join(words)


def python_listen_command(
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    *,
    duration: int = 600,
    shell: str = "posix",
    script: str = SCRIPT_NAME,
) -> str:
    """The command that runs the downloaded script in listen mode."""
    token = validate_token(token)
    tcp, udp = validate_ports(tcp_ports, "tcp_ports"), validate_ports(udp_ports, "udp_ports")
    _some_ports(tcp, udp)
    words = _interpreter(shell, script) + ["listen", "--token", _quote(token, shell)]
    if tcp:
        words += ["--tcp", ",".join(map(str, tcp))]
    if udp:
        words += ["--udp", ",".join(map(str, udp))]
    words += ["--duration", str(_timeout(duration, "duration", 86400))]
    return " ".join(words)


def _interpreter(shell: str, script: str) -> list[str]:
    if shell not in _SHELLS:
        raise ValueError(f"shell must be one of {_SHELLS}, not {shell!r}")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", script, re.ASCII):
        raise ValueError(f"unsafe script name: {script!r}")
    return ["python3" if shell == "posix" else "py", script]  # a plain name: nothing to quote


# --- POSIX shell ------------------------------------------------------------------------------

_POSIX_CHECK = r"""# OBM probe: outbound check to {server_text}. It sends nothing but the probe token.
# Paste into a terminal {where} (bash, zsh or sh). Uses bash's /dev/tcp, or nc.
(
server={server}
token={token}
t={timeout}
line="OBM-PROBE 1 $token"
failed=0
python_cmd="{python_cmd}"
if [ -n "${{BASH_VERSION:-}}" ]; then tcp_tool=bash
elif command -v nc >/dev/null 2>&1; then tcp_tool=nc
else tcp_tool=none; fi
if command -v nc >/dev/null 2>&1; then udp_tool=nc; else udp_tool=none; fi
say() {{ printf '%-3s %-5s %-5s %s\n' "$1" "$2" "$3" "$4"; }}
report() {{  # protocol, port, answer, what to say when there is no answer
  answer=$(printf '%s\n' "$3" | head -n 1 | tr -cd ' -~')
  case $answer in
    'OK '*)
      rest=${{answer#OK }}; ip=${{rest%% *}}; rest=${{rest#* }}; sport=${{rest%% *}}
      say "$1" "$2" OK "the portal saw you as $ip:$sport" ;;
    'ERR '*)
      failed=1; say "$1" "$2" REFUSED "${{answer#ERR }}" ;;
    '#noconnect')
      failed=1; say "$1" "$2" FAIL "connection refused or failed (is outbound $1 $2 allowed?)" ;;
    '')
      failed=1; say "$1" "$2" FAIL "$4" ;;
    *)
      failed=1; say "$1" "$2" FAIL "unexpected answer: $answer" ;;
  esac
}}
tcp_bash() {{  # bash: /dev/tcp, with a watchdog for the connect
  {{ ( printf '%s\n' "$line" >&3; IFS= read -r -t "$t" reply <&3; printf '%s' "$reply" ) \
      3<>"/dev/tcp/$server/$1" || printf '#noconnect'; }} 2>/dev/null &
  pid=$!
  ( sleep "$t"; kill "$pid" ) >/dev/null 2>&1 &
  dog=$!
  wait "$pid" 2>/dev/null
  kill "$dog" 2>/dev/null
}}
echo "Checking $server: sending only the probe token (timeout $t s per port)"
for port in {tcp_words}; do
  case $tcp_tool in
    bash) report TCP "$port" "$(tcp_bash "$port")" \
            "no answer within $t s: timed out (is outbound TCP $port allowed?)" ;;
    nc) report TCP "$port" "$(printf '%s\n' "$line" | nc -w "$t" "$server" "$port" 2>/dev/null)" \
          "connection refused / timed out (is outbound TCP $port allowed?)" ;;
    *) failed=1
       say TCP "$port" FAIL "cannot check TCP from this shell: neither bash nor nc is here."
       echo "          Install netcat (nc), run this in bash, or run the Python script:"
       echo "          $python_cmd" ;;
  esac
done
for port in {udp_words}; do
  if [ "$udp_tool" = nc ]; then
    answer=''; n=0
    while [ -z "$answer" ] && [ "$n" -lt 3 ]; do
      answer=$(printf '%s\n' "$line" | nc -u -w {udp_wait} "$server" "$port" 2>/dev/null)
      n=$((n + 1))
    done
    report UDP "$port" "$answer" \
      "no answer to 3 datagrams (UDP blocked, or the port is not forwarded; is outbound UDP $port allowed?)"
  else
    failed=1
    say UDP "$port" FAIL "UDP cannot be checked from this shell (it needs nc). Run the Python script:"
    echo "          $python_cmd"
  fi
done
if [ "$failed" = 0 ]; then echo "Result: all ports OK."
else echo "Result: NOT every port is proven open."; fi
exit "$failed"
)
"""


def posix_check(
    server: str,
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    *,
    timeout: int = 5,
    where: str = BACKUP_HOST,
) -> str:
    """POSIX sh text for the outbound check: prints one line per port, exits non-zero on failure.

    TCP with bash's ``/dev/tcp`` when run by bash, else ``nc``; UDP with ``nc -u -w`` (three
    datagrams at most), or a clear "cannot be checked from this shell" otherwise. It runs in a
    subshell, so ``exit`` never closes the terminal it is pasted into.
    """
    server, token = validate_server(server), validate_token(token)
    tcp, udp = validate_ports(tcp_ports, "tcp_ports"), validate_ports(udp_ports, "udp_ports")
    _some_ports(tcp, udp)
    timeout = _timeout(timeout)
    return _POSIX_CHECK.format(
        where=where,
        server_text=server,
        server=_sh(server),
        token=_sh(token),
        timeout=timeout,
        udp_wait=max(1, timeout // 3),
        # Literal words (validated ints): no word splitting needed, so zsh runs it too.
        tcp_words=" ".join(map(str, tcp)) if tcp else "",
        udp_words=" ".join(map(str, udp)) if udp else "",
        python_cmd=_dq(python_command(server, token, tcp, udp, timeout=timeout)),
    )


def posix_listen(
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    *,
    duration: int = 600,
) -> str:
    """POSIX text for the inbound check's listening side: the Python script, and why."""
    command = python_listen_command(token, tcp_ports, udp_ports, duration=duration)
    return (
        f"# OBM probe: inbound check (remote monitoring), {BACKUP_HOST}.\n"
        "# Listen with the Python script, not with the shell: a shell cannot answer a UDP\n"
        "# datagram back to its sender, nc's listen options differ between netcat variants\n"
        "# (-l -p PORT or -l PORT), and nc would answer any line, while the script answers only\n"
        "# a probe carrying this token, on TCP and UDP at once, and prints each probe it saw.\n"
        f"# Download {SCRIPT_NAME} from the rollout page, then run (needs Python 3.8 or newer):\n"
        f"{command}\n"
        "# Then start the inbound check on the rollout page. This host's own firewall (ufw,\n"
        "# firewalld, iptables) must allow these ports inbound too. If the backup software\n"
        "# already listens on a port, stop its service while you check.\n"
    )


# --- PowerShell -------------------------------------------------------------------------------

_PS_COMMON = r"""function Get-Inner($Err) {{
    $E = $Err.Exception
    while ($E.InnerException) {{ $E = $E.InnerException }}
    $E
}}
function Read-Line($Stream) {{
    $Buffer = New-Object byte[] 257
    $Count = 0
    while ($Count -lt 257) {{
        $N = $Stream.Read($Buffer, $Count, 257 - $Count)
        if ($N -le 0) {{ break }}
        $Count += $N
        if ([Array]::IndexOf($Buffer, [byte]10, 0, $Count) -ge 0) {{ break }}
    }}
    [System.Text.Encoding]::ASCII.GetString($Buffer, 0, $Count)
}}
"""

_PS_CHECK = r"""# OBM probe: outbound check to {server_text}. It sends nothing but the probe token.
# Paste into PowerShell {where}, or save as obm-check.ps1 and run:
#   powershell -NoProfile -ExecutionPolicy Bypass -File .\obm-check.ps1
$Server = {server}
$Token = {token}
$TcpPorts = {tcp}
$UdpPorts = {udp}
$TimeoutMs = {timeout_ms}
$Line = [System.Text.Encoding]::ASCII.GetBytes("OBM-PROBE 1 $Token`n")
$Failed = 0
{common}function Show-Answer($Proto, $Port, $Answer) {{
    $Answer = ($Answer -replace '[^\x20-\x7E]', '')
    if ($Answer -cmatch '^OK (\S+) (\d+) ') {{
        Write-Host ('{{0,-3}} {{1,-5}} OK    the portal saw you as {{2}}:{{3}}' -f $Proto, $Port, $Matches[1], $Matches[2])
        return $true
    }}
    if ($Answer -cmatch '^ERR ') {{
        Write-Host ('{{0,-3}} {{1,-5}} REFUSED {{2}}' -f $Proto, $Port, $Answer.Substring(4))
    }} elseif ($Answer -eq '') {{
        Write-Host ('{{0,-3}} {{1,-5}} FAIL  connected, but no answer' -f $Proto, $Port)
    }} else {{
        Write-Host ('{{0,-3}} {{1,-5}} FAIL  unexpected answer: {{2}}' -f $Proto, $Port, $Answer)
    }}
    return $false
}}
Write-Host "Checking $Server`: sending only the probe token"
foreach ($Port in $TcpPorts) {{
    $Client = New-Object System.Net.Sockets.TcpClient
    try {{
        $Connect = $Client.ConnectAsync($Server, $Port)
        if (-not $Connect.Wait($TimeoutMs)) {{ throw "no connection within $($TimeoutMs / 1000) s, timed out" }}
        $Stream = $Client.GetStream()
        $Stream.ReadTimeout = $TimeoutMs
        $Stream.Write($Line, 0, $Line.Length)
        if (-not (Show-Answer 'TCP' $Port (Read-Line $Stream))) {{ $Failed++ }}
    }} catch {{
        $Failed++
        Write-Host ('TCP {{0,-5}} FAIL  {{1}} (is outbound TCP {{0}} allowed?)' -f $Port, (Get-Inner $_).Message)
    }} finally {{
        $Client.Close()
    }}
}}
foreach ($Port in $UdpPorts) {{
    $Udp = New-Object System.Net.Sockets.UdpClient
    try {{
        $Udp.Client.ReceiveTimeout = [int]($TimeoutMs / 3)
        $Udp.Connect($Server, $Port)
        $Answer = $null
        for ($Try = 1; ($Try -le 3) -and ($null -eq $Answer); $Try++) {{
            [void]$Udp.Send($Line, $Line.Length)
            try {{
                $From = New-Object System.Net.IPEndPoint([System.Net.IPAddress]::Any, 0)
                $Answer = [System.Text.Encoding]::ASCII.GetString($Udp.Receive([ref]$From))
            }} catch {{
                $E = Get-Inner $_
                if (-not (($E -is [System.Net.Sockets.SocketException]) -and ($E.SocketErrorCode -eq 'TimedOut'))) {{ throw }}
            }}
        }}
        if ($null -eq $Answer) {{
            $Failed++
            Write-Host ('UDP {{0,-5}} FAIL  no answer within {{1}} s (UDP blocked, or the port is not forwarded; is outbound UDP {{0}} allowed?)' -f $Port, ($TimeoutMs / 1000))
        }} elseif (-not (Show-Answer 'UDP' $Port $Answer)) {{ $Failed++ }}
    }} catch {{
        $Failed++
        $E = Get-Inner $_
        if (($E -is [System.Net.Sockets.SocketException]) -and ($E.SocketErrorCode -eq 'ConnectionReset')) {{
            Write-Host ('UDP {{0,-5}} FAIL  port unreachable: nothing answers on UDP {{0}} at the server' -f $Port)
        }} else {{
            Write-Host ('UDP {{0,-5}} FAIL  {{1}}' -f $Port, $E.Message)
        }}
    }} finally {{
        $Udp.Close()
    }}
}}
if ($Failed -eq 0) {{
    Write-Host 'Result: all ports OK.'
}} else {{
    Write-Host "Result: $Failed port(s) NOT proven open."
{exit_lines}
}}
"""


def powershell_check(
    server: str,
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    *,
    timeout: int = 5,
    where: str = BACKUP_HOST,
) -> str:
    """PowerShell (5.1 and 7) text for the outbound check: TcpClient/UdpClient with timeouts,
    one line per port, ``exit 1`` on any failure (when run as a .ps1 file; pasted into a console
    it sets ``$LASTEXITCODE`` instead of closing the window)."""
    server, token = validate_server(server), validate_token(token)
    tcp, udp = validate_ports(tcp_ports, "tcp_ports"), validate_ports(udp_ports, "udp_ports")
    _some_ports(tcp, udp)
    return _PS_CHECK.format(
        where=where,
        server_text=server,
        server=_ps(server),
        token=_ps(token),
        tcp=_ps_array(tcp),
        udp=_ps_array(udp),
        timeout_ms=_timeout(timeout) * 1000,
        common=_PS_COMMON.format(),
        exit_lines=_exit_lines("    "),
    )


_PS_LISTEN = r"""# OBM probe: inbound check (remote monitoring), {where}.
# Answers the portal's probe on the ports your firewall forwards to this host; only a probe
# carrying this token gets an OK answer.
# Windows Defender Firewall must allow these ports inbound (for PowerShell, or add the rule
# from the instructions first), or the probe never arrives. Stop after {duration} s or Ctrl-C.
$Token = {token}
$TcpPorts = {tcp}
$UdpPorts = {udp}
$Seconds = {duration}
$Expected = "OBM-PROBE 1 $Token"
$Ok = [System.Text.Encoding]::ASCII.GetBytes("OK $Token`n")
$Mismatch = [System.Text.Encoding]::ASCII.GetBytes("ERR MISMATCH`n")
$Proven = 0
$Listeners = @()
$UdpSockets = @()
{common}function Get-Answer($Text) {{
    $Text = ($Text -split "`n")[0] -replace "`r$", ''
    if ($Text -ceq $Expected) {{ return @{{ Bytes = $Ok; Name = 'OK' }} }}
    return @{{ Bytes = $Mismatch; Name = 'MISMATCH' }}
}}
try {{
    foreach ($Port in $TcpPorts) {{
        $L = New-Object System.Net.Sockets.TcpListener([System.Net.IPAddress]::Any, $Port)
        $L.Start()
        $Listeners += $L
        Write-Host "listening on TCP $Port"
    }}
    foreach ($Port in $UdpPorts) {{
        $UdpSockets += New-Object System.Net.Sockets.UdpClient($Port)
        Write-Host "listening on UDP $Port"
    }}
    $End = (Get-Date).AddSeconds($Seconds)
    while ((Get-Date) -lt $End) {{
        foreach ($L in $Listeners) {{
            while ($L.Pending()) {{
                $Client = $L.AcceptTcpClient()
                try {{
                    $Stream = $Client.GetStream()
                    $Stream.ReadTimeout = 5000
                    $Reply = Get-Answer (Read-Line $Stream)
                    $Stream.Write($Reply.Bytes, 0, $Reply.Bytes.Length)
                    if ($Reply.Name -eq 'OK') {{ $Proven++ }}
                    Write-Host ('{{0}}  TCP {{1,-5}} {{2,-9}} probe from {{3}}' -f (Get-Date -Format 'HH:mm:ss'), $L.LocalEndpoint.Port, $Reply.Name, $Client.Client.RemoteEndPoint)
                }} catch {{
                }} finally {{
                    $Client.Close()
                }}
            }}
        }}
        foreach ($U in $UdpSockets) {{
            while ($U.Available -gt 0) {{
                $From = New-Object System.Net.IPEndPoint([System.Net.IPAddress]::Any, 0)
                try {{ $Data = $U.Receive([ref]$From) }} catch {{ break }}
                if ($Data.Length -eq 0 -or $Data.Length -gt 256) {{ continue }}
                $Reply = Get-Answer ([System.Text.Encoding]::ASCII.GetString($Data))
                # Never answer with more bytes than the datagram carried (no reflection).
                if ($Reply.Bytes.Length -gt $Data.Length) {{ continue }}
                [void]$U.Send($Reply.Bytes, $Reply.Bytes.Length, $From)
                if ($Reply.Name -eq 'OK') {{ $Proven++ }}
                Write-Host ('{{0}}  UDP {{1,-5}} {{2,-9}} probe from {{3}}' -f (Get-Date -Format 'HH:mm:ss'), $U.Client.LocalEndPoint.Port, $Reply.Name, $From)
            }}
        }}
        Start-Sleep -Milliseconds 100
    }}
}} finally {{
    foreach ($L in $Listeners) {{ $L.Stop() }}
    foreach ($U in $UdpSockets) {{ $U.Close() }}
}}
if ($Proven -gt 0) {{
    Write-Host "Result: answered $Proven valid probe(s)."
}} else {{
    Write-Host 'Result: no valid probe arrived (port-forward to this host, and its firewall?)'
{exit_lines}
}}
"""


def powershell_listen(
    token: str,
    tcp_ports: Iterable[int] | None,
    udp_ports: Iterable[int] | None,
    *,
    duration: int = 600,
) -> str:
    """PowerShell text for the inbound check's listening side (TcpListener and UdpClient):
    answers ``OK <token>`` to exactly this token's line, ``ERR MISMATCH`` otherwise, prints each
    probe, stops after ``duration`` seconds, ``exit 1`` when no valid probe arrived."""
    token = validate_token(token)
    tcp, udp = validate_ports(tcp_ports, "tcp_ports"), validate_ports(udp_ports, "udp_ports")
    _some_ports(tcp, udp)
    return _PS_LISTEN.format(
        where=BACKUP_HOST,
        token=_ps(token),
        tcp=_ps_array(tcp),
        udp=_ps_array(udp),
        duration=_timeout(duration, "duration", 86400),
        common=_PS_COMMON.format(),
        exit_lines=_exit_lines("    "),
    )


# --- the probe agent: the same script, run every hour, with the site's agent key ---------------

_AGENT_KEY = re.compile(r"obmk\.[0-9]{1,19}\.[0-9]{1,10}\.[A-Za-z0-9_-]{22}", re.ASCII)
_PORTAL_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?", re.ASCII
)


def validate_agent_key(key: object) -> str:
    if not isinstance(key, str) or not _AGENT_KEY.fullmatch(key):
        raise ValueError("an agent key looks like obmk.<site>.<version>.<22 characters>")
    return key


def validate_portal_url(url: object) -> str:
    """An http(s) address of host, port and path only (no query, no user info, no quoting)."""
    if not isinstance(url, str) or not _PORTAL_URL.fullmatch(url):
        raise ValueError(f"not a plain http(s) address: {url!r}")
    return url


def agent_cron_line(
    portal_url: str, key: str, *, script_path: str = "/opt/obm/obm_probe.py"
) -> str:
    """A crontab line that asks the portal every hour whether the site is due for a probe."""
    words = [
        "python3",
        _sh(script_path),
        "check",
        "--portal",
        _sh(validate_portal_url(portal_url)),
        "--agent-key",
        _sh(validate_agent_key(key)),
    ]
    return "17 * * * * " + " ".join(words) + " >> /var/log/obm_probe.log 2>&1"


def agent_scheduled_task(
    portal_url: str, key: str, *, script_path: str = r"C:\OBM\obm_probe.py"
) -> str:
    """A PowerShell command that registers the same hourly check as a Windows scheduled task."""
    portal_url, key = validate_portal_url(portal_url), validate_agent_key(key)
    arguments = f'"{script_path}" check --portal {portal_url} --agent-key {key}'
    return "\n".join(
        [
            f"$action = New-ScheduledTaskAction -Execute 'py.exe' -Argument {_ps(arguments)}",
            "$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) "
            "-RepetitionInterval (New-TimeSpan -Hours 1)",
            "Register-ScheduledTask -TaskName 'OBM firewall probe' -Action $action -Trigger $trigger "
            "-User 'SYSTEM' -RunLevel Highest -Force",
        ]
    )
