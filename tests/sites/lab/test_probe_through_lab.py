"""The portal's own probe through the packet lab: the real responder (``sites.probes.responder``)
in the datacenter namespace records the NATed source address of the backup host's probe, sent by
the customer's client (``sites/probes/clients/obm_probe.py check``).

Same lab, fixtures (``conftest.py``) and skip as ``test_packet_lab.py`` (docs/packet-lab.md, "The portal's own probe
through the lab"); one lab per firewall backend.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import time
from pathlib import Path

from sites.probes.tokens import issue_token
from tests.sites.lab import topology as t

REPO = Path(__file__).resolve().parents[3]
RESPONDER_SCRIPT = str(Path(__file__).with_name("run_responder.py"))
CLIENT_SCRIPT = str(REPO / "sites" / "probes" / "clients" / "obm_probe.py")
BACKUP_PORT = 4401
OPEN_TIMEOUT = 5.0  # an open path answers in milliseconds; this only bounds a failure
BLOCKED_TIMEOUT = 1.0  # a dropped SYN: how long the client waits before calling it failed
READY_TIMEOUT = 10.0
RUN_ID = 4401


class Responder:
    """The real ProbeResponder listening on the datacenter's TCP 4401 in ``namespace``, for the
    length of a ``with``; ``observations`` (after the block) is what its MemorySink recorded."""

    def __init__(self, namespace: str, key: bytes):
        self.namespace, self.key = namespace, key
        self.process: subprocess.Popen | None = None
        self.observations: list[dict] | None = None
        self.output = ""

    def __enter__(self) -> Responder:
        self.process = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.namespace,
                sys.executable,
                RESPONDER_SCRIPT,
                t.DATACENTER_ADDRESS,
                str(BACKUP_PORT),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LAB_PROBE_KEY": self.key.hex()},
        )
        ready, _, _ = select.select([self.process.stdout], [], [], READY_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("{") or json.loads(line).get("ready") is not True:
            self.stop()
            raise RuntimeError(
                f"the responder in {self.namespace} did not start: {line!r}\n{self.output}"
            )
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> list[dict] | None:
        """SIGTERM (its graceful stop), by its own pid; then read the observations it printed."""
        if self.process is None:
            return self.observations
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        self.output = f"exit {process.returncode}; stdout {out!r}; stderr {err!r}"
        for line in out.splitlines():
            if line.startswith("{") and "observations" in (record := json.loads(line)):
                self.observations = record["observations"]
        return self.observations


def probe(namespace: str, token: str, timeout: float) -> subprocess.CompletedProcess:
    """The customer's client, ``obm_probe.py check`` against the datacenter, from ``namespace``."""
    return subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            namespace,
            sys.executable,
            CLIENT_SCRIPT,
            "check",
            "--server",
            t.DATACENTER_ADDRESS,
            "--token",
            token,
            "--tcp",
            str(BACKUP_PORT),
            "--timeout",
            str(timeout),
        ],
        capture_output=True,
        text=True,
        timeout=timeout + 15,
    )


def new_token(key: bytes) -> str:
    return issue_token(key, RUN_ID, int(time.time()) + 300)


def explain(firewall, result, responder: Responder) -> str:
    client = f"exit {result.returncode}\n{result.stdout}{result.stderr}" if result else "(none)"
    return (
        f"\n--- client ---\n{client}--- responder ---\nobservations: "
        f"{responder.observations}\n{responder.output}" + firewall.explain()
    )


def test_backup_host_probe_is_recorded_behind_the_public_address(firewall):
    """Issue acceptance: the real responder in ``dc`` records the backup host's probe with the
    firewall's public address (the masquerade), and the customer's client prints OK."""
    key = secrets.token_bytes(32)
    token = new_token(key)
    result = None
    responder = Responder(firewall.ns(t.DC), key)
    try:
        with responder:
            result = probe(firewall.ns(t.HOST), token, OPEN_TIMEOUT)
    finally:
        responder.stop()
    seen = responder.observations
    why = explain(firewall, result, responder)
    assert result.returncode == 0, why
    ok_line = f"TCP {BACKUP_PORT}  OK    the portal saw you as {t.PUBLIC_ADDRESS}:"
    assert ok_line in result.stdout, why
    assert seen is not None and len(seen) == 1, why
    (observation,) = seen
    assert observation["outcome"] == "ok", why
    assert (observation["port"], observation["protocol"]) == (BACKUP_PORT, "tcp"), why
    assert observation["observed_ip"] == t.PUBLIC_ADDRESS, why
    assert observation["run_id"] == RUN_ID, why
    # What the client printed is what the responder recorded: same source port, same receipt.
    assert f"{t.PUBLIC_ADDRESS}:{observation['observed_port']} " in result.stdout, why
    assert f"(receipt {observation['receipt']})" in result.stdout, why


def test_other_lan_machine_probe_is_not_recorded(firewall):
    """Guide rule 3 seen by the portal: from 192.168.1.20 the probe never reaches the responder,
    which records nothing, and the client reports FAIL."""
    key = secrets.token_bytes(32)
    token = new_token(key)
    result = None
    responder = Responder(firewall.ns(t.DC), key)
    try:
        with responder:
            result = probe(firewall.ns(t.OTHER), token, BLOCKED_TIMEOUT)
    finally:
        responder.stop()
    why = explain(firewall, result, responder)
    assert result.returncode == 1, why
    assert f"TCP {BACKUP_PORT}  FAIL" in result.stdout, why
    assert responder.observations == [], why
