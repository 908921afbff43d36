"""The real loaders accept what the iptables and nftables renderers write: every example site and
the variations that change the file's shape; a broken file is refused, so the check is not vacuous.
Change and removal plans too: parsed by iptables-restore --test, and loaded for real on top of the
old version in a network namespace (both vendors).
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.policy import derive_rules
from sites.vendors import RENDERERS
from sites.vendors.formats import config_file
from tests.sites.lab import topology as lab
from tests.sites.lab.firewall import normalised, same_rules
from tests.sites.plans.test_every_vendor import CHANGES, REMOVAL_PROFILE, REMOVALS
from tests.sites.plans.test_every_vendor import site as plan_site
from tests.sites.vendors.example_sites import (
    EXAMPLE_NAMES,
    MONITORING,
    PORTAL_PROFILE,
    config_for,
    load_example,
    render,
)
from tests.sites.vendors.loader import check_with_loader

LOADERS = {
    "iptables": ["iptables-restore", "--test", "--noflush"],
    "nftables": ["nft", "-c", "-f"],
}
# One edit per vendor that the loader must refuse: a port out of range, a misspelt statement.
BREAKAGES = {
    "iptables": ("--dport 4401", "--dport 99999"),
    "nftables": ("masquerade", "masquerad"),
}
VARIANTS = {
    "any-source": {"monitoring_enabled": True},
    "dynamic-public": {**MONITORING, "public_address": None},
    "dhcp": {"host_addressing": "dhcp", "host_address": None},
    "range-two-sources": {
        **MONITORING,
        "host_addressing": "range",
        "host_range_start": "192.168.1.10",
        "host_range_end": "192.168.1.20",
        "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"],
    },
}


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_accepts_every_example(slug, example, tmp_path):
    text = config_file(render(slug, load_example(example), PORTAL_PROFILE))
    result = check_with_loader(LOADERS[slug], text, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_accepts_variants(slug, variant, tmp_path):
    result = check_with_loader(LOADERS[slug], config_for(slug, **VARIANTS[variant]), tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_rejects_a_broken_file(slug, tmp_path):
    old, new = BREAKAGES[slug]
    broken = config_for(slug).replace(old, new, 1)
    assert broken != config_for(slug)
    assert check_with_loader(LOADERS[slug], broken, tmp_path).returncode != 0


# -- change and removal plans (issue 12) ---------------------------------------------------------
#
# Every kind of change of the plan goldens (tests/sites/plans/test_every_vendor.py) and both
# removals, as `manage.py instructions … --format config` prints them (Renderer.plan_file).

PLAN_KINDS = [*sorted(CHANGES), *(f"remove-{scope}" for scope in REMOVALS)]


def plan_versions(slug: str, kind: str):
    """(old site, old profile, new site or None, new profile, plan) of one plan kind."""
    renderer = RENDERERS[slug]
    if kind.startswith("remove-"):
        scope = kind.removeprefix("remove-")
        old = plan_site(slug)
        plan = plan_removal(old, REMOVAL_PROFILE, scope=scope, renderers=[renderer])
        new = None if scope == "all" else plan_site(slug, monitoring_enabled=False)
        return old, REMOVAL_PROFILE, new, REMOVAL_PROFILE, plan
    old_changes, old_profile, new_changes, new_profile = CHANGES[kind]
    old, new = plan_site(slug, **old_changes), plan_site(slug, **new_changes)
    plan = plan_change(old, old_profile, new, new_profile, renderers=[renderer])
    return old, old_profile, new, new_profile, plan


def plan_file(slug: str, plan) -> str:
    (document,) = plan.documents
    return RENDERERS[slug].plan_file(document.steps)


@pytest.mark.parametrize("kind", PLAN_KINDS)
def test_iptables_restore_accepts_every_plan_file(kind, tmp_path):
    *_, plan = plan_versions("iptables", kind)
    text = plan_file("iptables", plan)
    assert text.startswith("*") and text.rstrip().endswith("COMMIT")
    result = check_with_loader(LOADERS["iptables"], text, tmp_path)
    assert result.returncode == 0, result.stderr


def test_iptables_restore_refuses_a_broken_plan_file(tmp_path):
    """Not vacuous. (With the nf_tables backend, --test does not check that a -D line's rule, nor
    even its chain, exists: the real load in a namespace below is what proves the deletions.)"""
    *_, plan = plan_versions("iptables", "host-moved")
    broken = plan_file("iptables", plan).replace("--dport 4401", "--dport 99999", 1)
    assert "99999" in broken
    assert check_with_loader(LOADERS["iptables"], broken, tmp_path).returncode != 0


# In a network namespace (the packet lab's fixture skips where they are refused), the plan is
# loaded for real on top of the old version, as the plan says: iptables-restore --noflush FILE,
# or sh FILE for the nftables script. It must lead to exactly the rules a fresh load of the new
# version gives (nothing at all after a decommission), and the nftables script, run a second
# time, must change nothing.
REAL = {
    "iptables": (
        ("iptables-restore", "--noflush"),
        ("iptables-restore", "--noflush"),
        ("iptables-save",),
    ),
    "nftables": (("nft", "-f"), ("sh",), ("nft", "-s", "list", "ruleset")),
}


@contextmanager
def scratch_namespace():
    name = f"{lab.PREFIX}{os.getpid()}-{secrets.token_hex(3)}-loader"
    lab.run(["ip", "netns", "add", name])
    try:
        yield name
    finally:
        lab.run(["ip", "netns", "delete", name], check=False)


def load_in(namespace: str, command: tuple[str, ...], text: str, path: Path) -> None:
    path.write_text(text)
    lab.run(["ip", "netns", "exec", namespace, *command, str(path)])


def ruleset_in(namespace: str, slug: str) -> str:
    listing = lab.run(["ip", "netns", "exec", namespace, *REAL[slug][2]]).stdout
    return normalised(slug, listing)


def complete_file(slug: str, description, profile) -> str:
    renderer = RENDERERS[slug]
    return config_file(renderer.render(derive_rules(description, profile), description, profile))


@pytest.mark.parametrize("kind", PLAN_KINDS)
@pytest.mark.parametrize("slug", sorted(REAL))
def test_plan_loads_on_top_of_the_old_version_and_gives_the_new(slug, kind, namespaces, tmp_path):
    load, run_plan, _ = REAL[slug]
    old, old_profile, new, new_profile, plan = plan_versions(slug, kind)
    with scratch_namespace() as applied, scratch_namespace() as fresh:
        empty = ruleset_in(applied, slug)
        load_in(applied, load, complete_file(slug, old, old_profile), tmp_path / "old")
        load_in(applied, run_plan, plan_file(slug, plan), tmp_path / "plan")
        after = ruleset_in(applied, slug)
        if slug == "nftables":
            load_in(applied, run_plan, plan_file(slug, plan), tmp_path / "plan")
            assert ruleset_in(applied, slug) == after, "a second run changed the ruleset"
        if new is None:
            assert "obm:" not in after
            if slug == "nftables":
                assert after == empty, after
            else:
                assert not [line for line in after.splitlines() if line.startswith("-A")], after
            return
        load_in(fresh, load, complete_file(slug, new, new_profile), tmp_path / "new")
        assert same_rules(after) == same_rules(ruleset_in(fresh, slug)), after


@pytest.mark.parametrize("slug", sorted(REAL))
def test_a_renamed_sites_plan_moves_every_rule_to_the_new_marker(slug, namespaces, tmp_path):
    """A rename changes every marker: the plan removes the old items and creates the new ones
    (never an in-place update looking for a marker the old rules do not carry), so every rule
    carries the new name, also after running it twice. nftables cannot change the comment of a
    table or chain that exists: ours keep the name they were created with (docs/lifecycle.md)."""
    old, new = plan_site(slug), plan_site(slug, name="Renamed site")
    plan = plan_change(old, GUIDE_PROFILE, new, GUIDE_PROFILE, renderers=[RENDERERS[slug]])
    load, _, _ = REAL[slug]
    with scratch_namespace() as namespace:
        load_in(namespace, load, complete_file(slug, old, GUIDE_PROFILE), tmp_path / "old")
        runs = [("sh",), ("sh",)] if slug == "nftables" else [load]  # nft's script: twice
        for number, command in enumerate(runs):
            load_in(namespace, command, plan_file(slug, plan), tmp_path / f"plan{number}")
        lines = ruleset_in(namespace, slug).splitlines()
        old_marked = [line.strip() for line in lines if "obm:test-site:" in line]
        assert all(line.startswith("comment ") for line in old_marked), old_marked
        assert sum("obm:renamed-site:" in line for line in lines) >= 6
