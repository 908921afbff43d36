"""The packet lab's fixtures: one lab per firewall backend (the namespaces fixture is
tests/fixtures/lab.py, shared with the analyzer's kernel differential test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sites.lab import topology as t
from tests.sites.lab.firewall import Firewall, generated_file


def _firewall(backend: t.Backend, rules: Path | None):
    lab = t.Lab()
    try:
        lab.build()
        try:
            lab.load_baseline(backend)
        except t.LabError as error:
            if backend.name == "iptables-legacy":
                pytest.skip(f"packet lab: the iptables legacy backend is unavailable here: {error}")
            raise
        firewall = Firewall(lab, backend)
        if rules is not None:
            firewall.config = generated_file(backend.vendor)
            rules.write_text(firewall.config)
            lab.load_rules(backend, rules)
        yield firewall
    finally:
        lab.destroy()


@pytest.fixture(scope="module", params=list(t.BACKENDS))
def firewall(request, namespaces, tmp_path_factory):
    """The lab with the baseline and the generated rules for the lab site, one per backend."""
    rules = tmp_path_factory.mktemp(request.param) / "rules"
    yield from _firewall(t.BACKENDS[request.param], rules)


@pytest.fixture(params=list(t.BACKENDS))
def baseline_only(request, namespaces):
    """The lab with the customer baseline and nothing else."""
    yield from _firewall(t.BACKENDS[request.param], None)
