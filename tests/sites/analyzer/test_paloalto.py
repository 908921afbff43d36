"""The PAN-OS XML reader on a customer's running config: zones, objects, the pre-NAT address with
the post-NAT zone (and the trap of naming the post-NAT address), intrazone/interzone defaults,
disabled rules, and the round trip through the portal's own `set` commands."""

from __future__ import annotations

import json
from io import StringIO
from ipaddress import IPv4Address
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

import pytest
from defusedxml.ElementTree import fromstring
from django.core.management import call_command

from sites.analyzer.analyze import analyze
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.model import ConfigError
from sites.analyzer.paloalto import parse_paloalto
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.formats import config_file

BASELINE = (Path(__file__).parent / "data" / "paloalto" / "running-config.xml").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
WEB = Flow("tcp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 443)
PRINTER_WEB = Flow("tcp", IPv4Address("192.168.1.50"), IPv4Address("203.0.113.1"), 443)
BACKUP = Flow("tcp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 4401)
MONITOR = Flow("tcp", IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1"), 4403)
MONITOR_UDP = Flow("udp", IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1"), 4403)


def paloalto_site(path: Path) -> SiteDescription:
    """An example site as a PAN-OS customer enters it: interfaces blank (ethernet1/2 inside,
    ethernet1/1 outside, the instructions' defaults)."""
    data = json.loads(path.read_text()) | {"inside_interface": "", "outside_interface": ""}
    return SiteDescription.from_dict(data)


def topology() -> Topology:
    site = paloalto_site(Path("docs/examples/monitoring.json"))
    return Topology.of_site(site, inside="ethernet1/2", outside="ethernet1/1")


def apply_set_commands(config: str, commands: str) -> str:
    """The baseline with PAN-OS CLI ``set``/``move … top`` commands applied, as the firewall's
    configure mode would: the subset the portal's instructions use."""
    root = fromstring(config)
    vsys = root.find("devices/entry/vsys/entry")
    assert vsys is not None
    for raw in commands.splitlines():
        words = raw.replace("[", " [ ").replace("]", " ] ").split()
        if words[:1] == ["move"] and words[-1] == "top":
            rules = vsys.find(f"rulebase/{words[2]}/rules")
            entry = rules.find(f"entry[@name='{words[4]}']")
            rules.remove(entry)
            rules.insert(0, entry)
        if words[:1] != ["set"]:
            continue
        if words[1] in ("address", "service", "address-group"):
            parent = _child(vsys, words[1])
            entry = parent.find(f"entry[@name='{words[2]}']")
            if entry is None:
                entry = SubElement(parent, "entry", name=words[2])
            rest = words[3:]
            if rest[:1] == ["description"]:
                SubElement(entry, "description").text = rest[1]
                rest = rest[2:]
            if not rest:
                continue
            if words[1] == "address":
                SubElement(entry, rest[0]).text = rest[1]
            elif words[1] == "address-group":  # static MEMBER
                SubElement(_child(entry, "static"), "member").text = rest[1]
            else:
                protocol = SubElement(SubElement(entry, "protocol"), rest[1])
                SubElement(protocol, "port").text = rest[3]
        elif words[1] == "rulebase":
            rules = _child(_child(_child(vsys, "rulebase"), words[2]), "rules")
            entry = rules.find(f"entry[@name='{words[4]}']")
            if entry is None:
                entry = SubElement(rules, "entry", name=words[4])
            _fill_rule(entry, words[5:], nat=words[2] == "nat")
    return tostring(root, encoding="unicode")


def _child(parent: Element, tag: str) -> Element:
    found = parent.find(tag)
    return found if found is not None else SubElement(parent, tag)


def _fill_rule(entry: Element, words: list[str], *, nat: bool) -> None:
    index = 0
    while index < len(words):
        key = words[index]
        if key in ("source-translation", "destination-translation"):
            element = SubElement(entry, key)
            rest = words[index + 1 :]
            if key == "source-translation":  # dynamic-ip-and-port interface-address interface X
                dynamic = SubElement(element, rest[0])
                SubElement(SubElement(dynamic, rest[1]), rest[2]).text = rest[3]
                index += 5
            else:  # translated-address A [translated-port P]
                while rest[:1] and rest[0] in ("translated-address", "translated-port"):
                    SubElement(element, rest[0]).text = rest[1]
                    rest = rest[2:]
                    index += 2
                index += 1
            continue
        values = []
        index += 1
        if words[index] == "[":
            index += 1
            while words[index] != "]":
                values.append(words[index])
                index += 1
        else:
            values.append(words[index])
        index += 1
        if key in ("action", "disabled", "description") or (nat and key == "service"):
            SubElement(entry, key).text = values[0]
        else:
            parent = SubElement(entry, key)
            for value in values:
                SubElement(parent, "member").text = value


def rendered(site: SiteDescription):
    return render_site(site, GUIDE_PROFILE, [get_renderer("paloalto")]).documents[0]


def test_zones_objects_services_and_the_session():
    ruleset = parse_paloalto(BASELINE)
    allowed = evaluate(ruleset, WEB, topology())
    assert allowed.verdict == "allowed" and allowed.translated_source == "192.0.2.1"
    assert [c.text for c in allowed.lines][:2] == [
        'security rule "web out": allow',
        'NAT rule "outbound PAT": source translation',
    ]
    printer = evaluate(ruleset, PRINTER_WEB, topology())
    assert printer.verdict == "blocked" and "printers stay home" in printer.lines[-1].text
    blocked = evaluate(ruleset, BACKUP, topology())  # the disabled "old backup rule" allows all
    assert blocked.verdict == "blocked" and blocked.lines[-1].text.startswith("interzone-default")
    assert ruleset.unrecognised == []


def test_a_site_may_name_the_zone():
    named = Topology.of_site(
        paloalto_site(Path("docs/examples/monitoring.json")), inside="trust", outside="untrust"
    )
    assert evaluate(parse_paloalto(BASELINE), WEB, named).verdict == "allowed"


DNAT = """
set address web-public ip-netmask 192.0.2.1/32
set service tcp-4403 protocol tcp port 4403
set rulebase nat rules mon from untrust to untrust source any destination web-public service tcp-4403 destination-translation translated-address 192.168.1.10
"""


def test_the_post_nat_address_trap():
    """A security rule for a port forward names the public (pre-NAT) address with the post-NAT
    zone; naming the private address never matches."""
    wrong = apply_set_commands(
        BASELINE,
        DNAT + "set rulebase security rules mon-in from untrust to trust source any "
        "destination 192.168.1.10/32 application any service tcp-4403 action allow\n",
    )
    verdict = evaluate(parse_paloalto(wrong), MONITOR, topology())
    assert verdict.verdict == "blocked"
    assert verdict.translated_destination == "192.168.1.10:4403"
    assert verdict.lines[-1].text.startswith("interzone-default")
    right = apply_set_commands(
        BASELINE,
        DNAT + "set rulebase security rules mon-in from untrust to trust source any "
        "destination web-public application any service tcp-4403 action allow\n",
    )
    verdict = evaluate(parse_paloalto(right), MONITOR, topology())
    assert verdict.verdict == "allowed"
    assert 'security rule "mon-in": allow' in [c.text for c in verdict.lines]
    assert evaluate(parse_paloalto(right), MONITOR_UDP, topology()).verdict == "blocked"


def test_intrazone_default_allows_and_applications_are_not_guessed():
    ruleset = parse_paloalto(BASELINE)
    same_zone = Topology.of_site(
        paloalto_site(Path("docs/examples/monitoring.json")),
        inside="ethernet1/2",
        outside="ethernet1/2",
    )
    assert evaluate(ruleset, BACKUP, same_zone).lines[0].text.startswith("intrazone-default")
    app = apply_set_commands(
        BASELINE,
        "set rulebase security rules ssl from trust to untrust source any destination any "
        "application ssl service any action deny\nmove rulebase security rules ssl top\n",
    )
    ruleset = parse_paloalto(app)
    assert "applications" in ruleset.unrecognised[0].reason
    assert evaluate(ruleset, WEB, topology()).verdict == "unknown"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_set_commands_decide_every_flow(path):
    site = paloalto_site(path)
    config = apply_set_commands(BASELINE, config_file(rendered(site)))
    analysis = analyze(config, "paloalto", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        expected = "allowed" if guide_flow.expected == ALLOWED else "blocked"
        assert result.verdict.verdict == expected, (result.flow, result.verdict)
        if expected == "allowed":
            accepts = [c for c in result.verdict.lines if c.effect.startswith("accepts the new")]
            assert accepts and all('"obm-' in c.text for c in accepts), accepts
    assert analysis.missing_steps == ()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_baseline_alone_needs_every_step(path):
    site = paloalto_site(path)
    analysis = analyze(BASELINE, "paloalto", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        if guide_flow.expected == ALLOWED:
            assert result.verdict.verdict == "blocked", result.flow
    assert list(analysis.missing_steps) == [
        s.title for s in rendered(site).steps if s.kind is StepKind.CHANGE
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><config>&a;</config>', "refused"),
        ('<!DOCTYPE x [<!ENTITY s SYSTEM "file:///etc/passwd">]><config>&s;</config>', "refused"),
        ("<config><devices>", "not well-formed"),
        ("<config/>", "not a PAN-OS configuration"),
    ],
)
def test_hostile_or_wrong_xml_is_a_clear_error(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_paloalto(data)


def test_the_command_reads_a_running_config(tmp_path):
    path = tmp_path / "running-config.xml"
    path.write_text(BASELINE)
    out = StringIO()
    call_command(
        "analyze",
        str(path),
        "--vendor",
        "paloalto",
        "--site",
        "docs/examples/dhcp-host.json",
        "--flow",
        "tcp:192.168.1.10->203.0.113.1:443",
        stdout=out,
    )
    assert "ALLOWED" in out.getvalue() and 'security rule "web out"' in out.getvalue()
