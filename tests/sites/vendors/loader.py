"""Run a real configuration loader (iptables-restore --test, nft -c -f) on a generated file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def check_with_loader(command: list[str], text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``command + [file]`` on ``text``; skip the test only if the binary is not installed."""
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (apt-get install -y iptables nftables)")
    path = tmp_path / "rules"
    path.write_text(text)
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=30)
