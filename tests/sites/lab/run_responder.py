"""Runs the portal's real probe responder (``sites.probes.responder``) inside a lab namespace.

Started by ``test_probe_through_lab.py`` as
``ip netns exec <dc> <venv python> run_responder.py HOST PORT`` with the probe key, in hex, in the
environment variable ``LAB_PROBE_KEY`` (so it never shows in a process listing). It:

- listens on HOST TCP PORT with a :class:`MemorySink`, through :func:`sites.probes.responder.run`
  (the same SIGTERM handling as the portal's service);
- prints one JSON line ``{"ready": true, "endpoints": [...]}`` once it listens;
- on SIGTERM stops gracefully and prints one JSON line ``{"observations": [...]}`` (each one
  :class:`Observation` as a dict), then exits 0;
- sends itself SIGTERM after ``--seconds`` (default 30), so it ends even if the test process dies.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sites.probes.responder import MemorySink, ProbeResponder, run  # noqa: E402

KEY_VARIABLE = "LAB_PROBE_KEY"


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)

    key = bytes.fromhex(os.environ[KEY_VARIABLE])
    sink = MemorySink()
    responder = ProbeResponder(key, [(args.host, args.port, "tcp")], sink)

    def started(responder: ProbeResponder) -> None:
        # The signal handlers are in place by now: a SIGTERM from here on stops it gracefully.
        watchdog = threading.Timer(args.seconds, os.kill, (os.getpid(), signal.SIGTERM))
        watchdog.daemon = True
        watchdog.start()
        _emit({"ready": True, "endpoints": [dataclasses.asdict(e) for e in responder.endpoints]})

    run(responder, on_started=started)
    _emit({"observations": [dataclasses.asdict(o) for o in sink.observations]})


if __name__ == "__main__":
    main(sys.argv[1:])
