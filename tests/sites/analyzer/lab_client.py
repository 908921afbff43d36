"""A long-lived client for the kernel differential test: runs inside one namespace, reads one JSON
request a line ({"id", "protocol", "address", "port", "token", "timeout", "source"}), and answers
each, concurrently, with the packet lab's probe outcome plus its id. Saves starting a process per
connection, which is most of the test's time otherwise. Standard library only (runs with -S)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from probes import _connect

_write = threading.Lock()


def _answer(request: dict) -> None:
    outcome = _connect(
        request["protocol"],
        request["address"],
        request["port"],
        request["token"],
        request["timeout"],
        request["source"],
    )
    with _write:
        print(json.dumps({"id": request["id"], **outcome}), flush=True)


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            threading.Thread(target=_answer, args=(json.loads(line),), daemon=True).start()


if __name__ == "__main__":
    main()
