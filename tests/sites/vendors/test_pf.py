"""The pf renderer: a coherent pf.conf fragment, OpenBSD or FreeBSD syntax.

pfctl does not exist where these tests run, so the syntax is checked by content: every line is a
known kind of pf.conf statement, macros and tables are defined before use, FreeBSD's
translation rules come before its filter rules, and each rule has the exact expected text.
"""

from __future__ import annotations

import re

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import RENDERERS, get_renderer
from sites.vendors.base import StepKind
from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    EXAMPLE_NAMES,
    MONITORING,
    RANGE,
    config_for,
    load_example,
    make_site,
    render,
)

FREEBSD = {"firmware": "FreeBSD 14.1"}

STATEMENT = re.compile(
    r"^(\w+ = \"[^\"]+\"|table <\w+> (const )?\{ [^}]+ \}|match (in|out) |pass (in|out) |nat on |rdr on )"
)
VARIANTS = [
    {},
    MONITORING,
    {**MONITORING, "public_address": None},
    {"monitoring_enabled": True},
    {"host_addressing": "dhcp", "host_address": None},
    RANGE,
    {
        **MONITORING,
        **RANGE,
        "host_address": "192.168.1.12",
        "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"],
    },
]


def pf_conf(**changes) -> str:
    return config_for("pf", **changes)


def rules(text: str) -> list[str]:
    """The statements of a pf.conf text: no comments, no blank lines, no marker labels."""
    return [
        re.sub(r' label "obm:[^"]+"$', "", re.sub(r"\s+#.*$", "", line).strip())
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def check_fragment(text: str, freebsd: bool) -> None:
    """What pfctl -nf would insist on, as far as content can tell."""
    defined_macros: set[str] = set()
    defined_tables: set[str] = set()
    seen_filter = False
    for line in rules(text):
        assert STATEMENT.match(line), line
        assert line.count("{") == line.count("}") and line.count("(") == line.count(")"), line
        for macro in re.findall(r"\$(\w+)", line):
            assert macro in defined_macros, f"${macro} used before it is defined: {line}"
        for table in re.findall(r"<(\w+)>", line):
            if not line.startswith("table"):
                assert table in defined_tables, f"<{table}> used before it is defined: {line}"
        if m := re.match(r"(\w+) = ", line):
            defined_macros.add(m.group(1))
        if m := re.match(r"table <(\w+)>", line):
            defined_tables.add(m.group(1))
        if line.startswith("pass"):
            seen_filter = True
        if line.startswith(("nat ", "rdr ")):
            assert freebsd, line
            assert not seen_filter, f"translation after filtering: {line}"
        if line.startswith("match"):
            assert not freebsd, line
            assert not seen_filter, f"match rule after the pass rules that need it: {line}"
        # Address ranges need spaces around the dash, or pf reads one host name.
        assert not re.search(r"\d-\d", line), line


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_example_is_a_coherent_fragment(example):
    check_fragment(config_file(render("pf", load_example(example))), freebsd=False)


@pytest.mark.parametrize("freebsd", [False, True], ids=["openbsd", "freebsd"])
@pytest.mark.parametrize("changes", VARIANTS)
def test_variants_are_coherent_fragments(changes, freebsd):
    extra = FREEBSD if freebsd else {}
    check_fragment(pf_conf(**changes, **extra), freebsd=freebsd)


def test_steps_are_definitions_translation_filtering():
    steps = render("pf", make_site(vendor="pf", **MONITORING)).steps
    changes = [s for s in steps if s.kind is StepKind.CHANGE]
    assert len(changes) == 3
    assert all(s.config_language == "pf" for s in changes)
    assert rules(changes[0].config)[0].startswith("obm_int_if = ")
    assert all(r.startswith("match ") for r in rules(changes[1].config))
    assert all(r.startswith("pass ") for r in rules(changes[2].config))
    assert "pfctl -nf /etc/pf.conf" in changes[2].reason
    assert "pfctl -f /etc/pf.conf" in changes[2].reason


def test_openbsd_static_host_outbound_and_nat():
    assert rules(pf_conf()) == [
        'obm_int_if = "em1"',
        'obm_ext_if = "egress"',
        "table <obm_dc> const { 203.0.113.0/24 }",
        "match out on $obm_ext_if inet proto tcp from 192.168.1.10 to <obm_dc> port 4401 "
        "nat-to ($obm_ext_if:0)",
        "pass in log on $obm_int_if inet proto tcp from 192.168.1.10 to <obm_dc> port 4401",
        "pass out on $obm_ext_if inet proto tcp to <obm_dc> port 4401",
    ]


def test_freebsd_static_host_outbound_and_nat():
    assert rules(pf_conf(**FREEBSD)) == [
        'obm_int_if = "em1"',
        'obm_ext_if = "em0"',
        "table <obm_dc> const { 203.0.113.0/24 }",
        "nat on $obm_ext_if inet proto tcp from 192.168.1.10 to <obm_dc> port 4401 "
        "-> ($obm_ext_if)",
        "pass in log on $obm_int_if inet proto tcp from 192.168.1.10 to <obm_dc> port 4401",
        "pass out on $obm_ext_if inet proto tcp to <obm_dc> port 4401",
    ]


def test_transparency_is_a_change_not_a_check():
    step = render("pf", make_site(vendor="pf")).steps[1]
    assert step.kind is StepKind.CHANGE and "nat-to" in step.config


def test_outside_pass_rule_does_not_name_the_private_source():
    # After nat-to / nat the packet leaving the outside has the firewall's address.
    for extra in ({}, FREEBSD):
        out = [r for r in rules(pf_conf(**extra)) if r.startswith("pass out on $obm_ext_if")]
        assert out and all("192.168.1.10" not in r for r in out)


def test_site_interfaces_and_no_egress_on_freebsd():
    text = pf_conf(inside_interface="igb1", outside_interface="igb0")
    assert 'obm_int_if = "igb1"' in text and 'obm_ext_if = "igb0"' in text
    assert "set them to yours" not in text
    assert "egress" not in pf_conf(**FREEBSD)
    site = make_site(vendor="pf")
    assert get_renderer("pf").interfaces(site) == ("em1", "egress")


def test_monitoring_openbsd_rdr_to_and_pass_on_private_address():
    lines = rules(pf_conf(**MONITORING))
    assert "table <obm_monitor> { 198.51.100.7 }" in lines  # not const: the portal can be added
    assert [r for r in lines if "rdr-to" in r] == [
        "match in on $obm_ext_if inet proto { tcp udp } from <obm_monitor> to 192.0.2.1 "
        "port 4403 rdr-to 192.168.1.10 port 4403",
        "match in on $obm_ext_if inet proto tcp from <obm_monitor> to 192.0.2.1 "
        "port 4401 rdr-to 192.168.1.10 port 4401",
    ]
    inbound = [r for r in lines if r.startswith("pass") and "<obm_monitor>" in r]
    assert inbound == [
        "pass in log on $obm_ext_if inet proto { tcp udp } from <obm_monitor> to 192.168.1.10 port 4403",
        "pass out on $obm_int_if inet proto { tcp udp } from <obm_monitor> to 192.168.1.10 port 4403",
        "pass in log on $obm_ext_if inet proto tcp from <obm_monitor> to 192.168.1.10 port 4401",
        "pass out on $obm_int_if inet proto tcp from <obm_monitor> to 192.168.1.10 port 4401",
    ]
    assert all("192.0.2.1" not in r for r in inbound)  # filter after translation: private address


def test_monitoring_freebsd_rdr_without_pass():
    lines = rules(pf_conf(**MONITORING, **FREEBSD))
    assert [r for r in lines if r.startswith("rdr")] == [
        "rdr on $obm_ext_if inet proto { tcp udp } from <obm_monitor> to 192.0.2.1 port 4403 "
        "-> 192.168.1.10 port 4403",
        "rdr on $obm_ext_if inet proto tcp from <obm_monitor> to 192.0.2.1 port 4401 "
        "-> 192.168.1.10 port 4401",
    ]
    assert not any(r.startswith("rdr pass") for r in lines)  # would skip the filter rules
    assert not any("rdr-to" in r or "nat-to" in r for r in lines)


def test_tcp_and_udp_4403_share_one_rule_each_port_its_own():
    lines = rules(pf_conf(**MONITORING))
    assert sum("proto { tcp udp }" in r and "port 4403" in r for r in lines) == 3  # rdr, in, out
    assert not any("udp" in r and "4401" in r for r in lines)


def test_dynamic_public_address_follows_the_interface():
    for extra in ({}, FREEBSD):
        lines = rules(pf_conf(**{**MONITORING, "public_address": None}, **extra))
        redirects = [r for r in lines if "rdr" in r]
        assert len(redirects) == 2
        assert all("to ($obm_ext_if) port" in r for r in redirects)


def test_monitoring_from_any_source():
    lines = rules(pf_conf(monitoring_enabled=True, public_address="192.0.2.1"))
    assert not any("obm_monitor" in r for r in lines)
    assert sum("from any to" in r for r in lines) == 6  # 2 redirects, 4 pass rules


def test_several_monitoring_sources_in_the_table():
    text = pf_conf(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert "table <obm_monitor> { 198.51.100.7, 198.51.100.0/28 }" in text


def test_dhcp_source_is_the_lan():
    lines = rules(pf_conf(host_addressing="dhcp", host_address=None))
    assert sum("from 192.168.1.0/24 to <obm_dc> port 4401" in r for r in lines) == 2


def test_range_source_is_native():
    lines = rules(pf_conf(**RANGE))
    assert sum("from 192.168.1.10 - 192.168.1.20 to <obm_dc>" in r for r in lines) == 2
    warnings = render("pf", make_site(vendor="pf", **RANGE)).warnings
    assert "range_unsupported" not in {w.code for w in warnings}


def test_several_datacenter_networks():
    from dataclasses import replace
    from ipaddress import IPv4Network

    from sites.description import GUIDE_PROFILE

    profile = replace(
        GUIDE_PROFILE,
        datacenter_networks=(IPv4Network("203.0.113.0/24"), IPv4Network("198.18.0.0/15")),
    )
    text = config_file(render("pf", make_site(vendor="pf"), profile))
    assert "table <obm_dc> const { 203.0.113.0/24, 198.18.0.0/15 }" in text


# -- markers and plans (issue #12) ------------------------------------------------------------------

MARKED = re.compile(r'(?: label "(obm:[a-z0-9-]+:[a-z0-9.-]+)"|  # (obm:[a-z0-9-]+:[a-z0-9.-]+))$')


@pytest.mark.parametrize("freebsd", [False, True], ids=["openbsd", "freebsd"])
@pytest.mark.parametrize("changes", VARIANTS)
def test_every_line_we_add_carries_one_marker(changes, freebsd):
    extra = FREEBSD if freebsd else {}
    statements = [
        line for line in pf_conf(**changes, **extra).splitlines() if line and line[0] != "#"
    ]
    markers = []
    for line in statements:
        found = MARKED.search(line)
        assert found, line
        markers.append(found.group(1) or found.group(2))
        # FreeBSD's nat and rdr rules take no label: their marker is a comment.
        if line.startswith(("nat ", "rdr ", "obm_", "table ")):
            assert found.group(2), line
        else:
            assert found.group(1), line
    assert len(markers) == len(set(markers))


def test_labels_fit_pf_label_size():
    """pf keeps at most 63 characters of a label (PF_RULE_LABEL_SIZE 64)."""
    site = make_site(
        vendor="pf", name="A" * 120, **MONITORING, **{**RANGE, "host_address": "192.168.1.12"}
    )
    text = config_file(render("pf", site))
    labels = re.findall(r'label "([^"]+)"', text)
    assert labels and max(map(len, labels)) <= 63


def test_plans_edit_pf_conf_and_load_it():
    renderer = RENDERERS["pf"]
    site = make_site(vendor="pf", **MONITORING)
    moved = make_site(vendor="pf", **{**MONITORING, "host_address": "192.168.1.20"})
    plan = plan_change(site, GUIDE_PROFILE, moved, GUIDE_PROFILE, renderers=[renderer])
    changes = [s for s in plan.documents[0].steps if s.action]
    assert {s.action for s in changes} == {"change"}  # replaced in place, never deleted twice
    for step in changes:
        assert step.verify.startswith("pfctl -nf /etc/pf.conf && pfctl -f /etc/pf.conf")
        new_lines = [line for line in step.config.splitlines() if not line.startswith("#")]
        assert new_lines and all("192.168.1.10" not in line for line in new_lines)
        check_fragment(
            'obm_int_if = "em1"\nobm_ext_if = "egress"\n'
            "table <obm_dc> const { 203.0.113.0/24 }\ntable <obm_monitor> { 198.51.100.7 }\n"
            + "\n".join(new_lines),
            freebsd=False,
        )
    removal = plan_removal(site, GUIDE_PROFILE, renderers=[renderer])
    removed = [s for s in removal.documents[0].steps if s.action == "remove"]
    # Nothing a removal step says can be loaded as a rule: deletions are instructions.
    assert all(line.startswith("#") for s in removed for line in s.config.splitlines())
    text = "\n".join(s.config for s in removed)
    assert text.index(":in-4403") < text.index(":out-4401") < text.index(":dc")
    assert renderer.plan_file(removal.documents[0].steps).startswith("# Edits to /etc/pf.conf")


def test_a_renamed_site_replaces_each_line_found_by_its_key():
    old = make_site(vendor="pf", **MONITORING)
    new = make_site(vendor="pf", name="Branch office", **MONITORING)
    plan = plan_change(old, GUIDE_PROFILE, new, GUIDE_PROFILE, renderers=[RENDERERS["pf"]])
    steps = [s for s in plan.documents[0].steps if s.action]
    assert {s.action for s in steps} == {"change"}
    text = "\n".join(s.config for s in steps)
    assert "# Replace the line whose marker ends in :out-4401 with:" in text
    assert 'label "obm:branch-office:out-4401"' in text and "obm:test-site" not in text
