"""Probe clients: what the customer runs on the backup host (docs/probe-protocol.md).

- ``obm_probe.py``: the single-file, stdlib-only (Python 3.8+) script the portal offers for
  download as is (read it with :func:`script_source`); ``check`` for outbound, ``listen`` for
  inbound probes;
- ``snippets``: copy-paste PowerShell and POSIX sh text, and the command line for the script,
  with server, ports and token filled in.
"""

from pathlib import Path

SCRIPT_PATH = Path(__file__).with_name("obm_probe.py")


def script_source() -> bytes:
    """The bytes of ``obm_probe.py``, to serve as a download (``text/x-python``)."""
    return SCRIPT_PATH.read_bytes()
