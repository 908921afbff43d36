"""The pfSense/OPNsense config.xml reader on a factory config and a customer's rules, the port
forward traps, the round trip through the portal's rendered GUI steps, and hostile XML."""

from __future__ import annotations

import json
import re
from io import StringIO
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from django.core.management import call_command

from sites.analyzer.analyze import analyze
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.model import ConfigError
from sites.analyzer.pfsense import parse_opnsense, parse_pfsense
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.managed import site_tag

FACTORY = (Path(__file__).parent / "data" / "pfsense" / "factory.xml").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
BACKUP = Flow("tcp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 4401)
MONITOR = Flow("tcp", IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1"), 4403)
MONITOR_UDP = Flow("udp", IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1"), 4403)
STRANGER = Flow("tcp", IPv4Address("198.51.100.99"), IPv4Address("192.0.2.1"), 4403)


def example(name: str) -> SiteDescription:
    return SiteDescription.from_dict(json.loads(Path(f"docs/examples/{name}.json").read_text()))


def topology() -> Topology:
    return Topology.of_site(example("monitoring"), inside="LAN", outside="WAN")


def with_sections(
    *, filter_rules: str = "", nat: str = "", aliases: str = "", base: str = FACTORY
) -> str:
    """``base`` with rules put on top of the filter, NAT rules and aliases added."""
    text = base.replace("\t<filter>\n", "\t<filter>\n" + filter_rules, 1)
    text = text.replace("\t\t<outbound>", nat + "\t\t<outbound>", 1)
    return text.replace("<aliases></aliases>", f"<aliases>{aliases}</aliases>", 1)


def port_forward(protocol: str, port: int, association: str = "", extra: str = "") -> str:
    return f"""
		<rule>
			<source><address>OBM_MONITOR</address></source>
			<destination><network>wanip</network><port>{port}</port></destination>
			<ipprotocol>inet</ipprotocol>
			<protocol>{protocol}</protocol>
			<target>192.168.1.10</target>
			<local-port>{port}</local-port>
			<interface>wan</interface>
			<descr><![CDATA[monitoring {protocol} {port}]]></descr>
			<associated-rule-id>{association}</associated-rule-id>{extra}
		</rule>
"""


def associated_rule(protocol: str, port: int, rule_id: str, extra: str = "") -> str:
    return f"""		<rule>
			<source><address>OBM_MONITOR</address></source>
			<interface>wan</interface>
			<protocol>{protocol}</protocol>
			<ipprotocol>inet</ipprotocol>
			<destination><address>192.168.1.10</address><port>{port}</port></destination>
			<descr><![CDATA[NAT monitoring {protocol} {port}]]></descr>
			<associated-rule-id>{rule_id}</associated-rule-id>{extra}
		</rule>
"""


MONITOR_ALIAS = """
		<alias>
			<name>OBM_MONITOR</name>
			<type>network</type>
			<address>198.51.100.7/32</address>
			<descr><![CDATA[monitoring computers]]></descr>
		</alias>
"""


def test_factory_config_lets_the_lan_out_through_automatic_nat_and_nothing_in():
    ruleset = parse_pfsense(FACTORY)
    verdict = evaluate(ruleset, BACKUP, topology())
    assert verdict.verdict == "allowed" and verdict.translated_source == "192.0.2.1"
    assert [c.text for c in verdict.lines][0].endswith('"Default allow LAN to any rule"')
    assert verdict.lines[0].line == 60
    assert evaluate(ruleset, MONITOR, topology()).verdict == "blocked"
    assert [u.line for u in ruleset.unrecognised] == [38]  # <blockbogons/>


def test_the_site_may_name_the_interface_key_or_its_description():
    ruleset = parse_pfsense(FACTORY.replace("[WAN]", "[Internet]"))
    named = Topology.of_site(example("monitoring"), inside="lan", outside="Internet")
    assert evaluate(ruleset, BACKUP, named).translated_source == "192.0.2.1"


def test_port_forward_without_its_associated_rule_is_blocked_by_the_default_deny():
    """The trap: the rdr translates, but no WAN rule passes the private destination."""
    config = with_sections(nat=port_forward("tcp", 4403), aliases=MONITOR_ALIAS)
    verdict = evaluate(parse_pfsense(config), MONITOR, topology())
    assert verdict.verdict == "blocked"
    assert verdict.translated_destination == "192.168.1.10:4403"
    assert "default deny" in verdict.lines[-1].text


def test_port_forward_with_associated_rule_or_rdr_pass_is_allowed():
    linked = with_sections(
        nat=port_forward("tcp/udp", 4403, "nat_1"),
        filter_rules=associated_rule("tcp/udp", 4403, "nat_1"),
        aliases=MONITOR_ALIAS,
    )
    ruleset = parse_pfsense(linked)
    for flow in (MONITOR, MONITOR_UDP):
        verdict = evaluate(ruleset, flow, topology())
        assert verdict.verdict == "allowed", verdict
        assert any("NAT monitoring" in c.text for c in verdict.lines)
    assert evaluate(ruleset, STRANGER, topology()).verdict == "blocked"
    rdr_pass = with_sections(nat=port_forward("tcp", 4403, "pass"), aliases=MONITOR_ALIAS)
    verdict = evaluate(parse_pfsense(rdr_pass), MONITOR, topology())
    assert verdict.verdict == "allowed"
    assert all("monitoring tcp 4403" in c.text for c in verdict.lines if c.line)


def test_disabled_rules_and_port_forwards_change_nothing():
    disabled_rule = with_sections(
        nat=port_forward("tcp", 4403, "nat_1"),
        filter_rules=associated_rule("tcp", 4403, "nat_1", "\n\t\t\t<disabled></disabled>"),
        aliases=MONITOR_ALIAS,
    )
    assert evaluate(parse_pfsense(disabled_rule), MONITOR, topology()).verdict == "blocked"
    disabled_forward = with_sections(
        nat=port_forward("tcp", 4403, "pass", "\n\t\t\t<disabled></disabled>"),
        aliases=MONITOR_ALIAS,
    )
    verdict = evaluate(parse_pfsense(disabled_forward), MONITOR, topology())
    assert verdict.verdict == "blocked" and verdict.translated_destination is None


def test_a_block_above_the_default_allow_and_manual_outbound_nat():
    block = """		<rule>
			<type>block</type>
			<interface>lan</interface>
			<protocol>tcp</protocol>
			<source><any></any></source>
			<destination><any></any><port>4400-4410</port></destination>
			<descr><![CDATA[no odd ports]]></descr>
		</rule>
"""
    ruleset = parse_pfsense(with_sections(filter_rules=block))
    verdict = evaluate(ruleset, BACKUP, topology())
    assert verdict.verdict == "blocked" and "no odd ports" in verdict.lines[-1].text
    manual = FACTORY.replace("<mode>automatic</mode>", "<mode>advanced</mode>")
    verdict = evaluate(parse_pfsense(manual), BACKUP, topology())
    assert verdict.verdict == "allowed" and verdict.translated_source is None


def test_what_is_not_understood_is_listed():
    odd = """		<rule>
			<type>block</type>
			<interface>lan</interface>
			<source><address>BLOCKLIST</address></source>
			<destination><any></any></destination>
		</rule>
"""
    aliases = "<alias><name>BLOCKLIST</name><type>url</type><url>https://x.example/l</url></alias>"
    ruleset = parse_pfsense(with_sections(filter_rules=odd, aliases=aliases))
    assert any("BLOCKLIST" in u.reason for u in ruleset.unrecognised)
    assert evaluate(ruleset, BACKUP, topology()).verdict == "unknown"


def opnsense(text: str) -> str:
    return text.replace("<pfsense>", "<opnsense>").replace("</pfsense>", "</opnsense>")


def test_opnsense_reads_the_classic_filter_and_lists_the_new_one():
    text = opnsense(FACTORY).replace(
        "\t<aliases>",
        "\t<OPNsense><Firewall><Filter><rules><rule uuid='x'><action>block</action></rule>"
        "</rules></Filter></Firewall></OPNsense>\n\t<aliases>",
    )
    ruleset = parse_opnsense(text)
    assert ruleset.vendor == "opnsense"
    assert evaluate(ruleset, BACKUP, topology()).verdict == "allowed"
    assert any("OPNsense/Firewall/Filter" in u.text for u in ruleset.unrecognised)


def pfsense_site(path: Path) -> SiteDescription:
    """An example site as a pfSense customer enters it: the interface fields hold pfSense's
    interface descriptions, here left blank for the defaults LAN and WAN."""
    data = json.loads(path.read_text()) | {"inside_interface": "", "outside_interface": ""}
    return SiteDescription.from_dict(data)


def round_trip_config(site: SiteDescription, base: str) -> str:
    """The config.xml entries equivalent to the rendered GUI steps (aliases, the LAN pass rule,
    port forwards with "Add associated filter rule"), built from the values the steps show."""
    document = render_site(site, GUIDE_PROFILE, [get_renderer("pfsense")]).documents[0]
    shown = "\n".join(step.config or "" for step in document.steps)
    host = site.host_address or site.host_range_start or site.lan_network
    if site.host_addressing == "range":
        source = f"{site.host_range_start}-{site.host_range_end}"
    elif site.host_address is not None:
        source = str(site.host_address)
    else:
        source = str(site.lan_network)
    assert "OBM_DC" in shown and "4401" in shown and source.split("-")[0] in shown
    # The Descriptions exactly as the steps show them, markers first (obm:<site>:<key> …).
    descriptions = re.findall(r"^ *Description: (.*)$", shown, re.MULTILINE)
    described = {d.split()[0].rsplit(":", 1)[1]: d for d in descriptions if d.startswith("obm:")}
    aliases = (
        "<alias><name>OBM_DC</name><type>network</type><address>203.0.113.0/24</address></alias>"
    )
    ours = f"""		<rule>
			<type>pass</type>
			<interface>lan</interface>
			<ipprotocol>inet</ipprotocol>
			<protocol>tcp</protocol>
			<source><address>{source}</address></source>
			<destination><address>OBM_DC</address><port>4401</port></destination>
			<descr><![CDATA[{described["out-tcp-4401"]}]]></descr>
		</rule>
"""
    nat = ""
    if site.monitoring_enabled and site.public_address is not None:
        assert f"Redirect target IP: Address or Alias — {host}" in shown
        monitors = " ".join(str(n) for n in site.monitoring_sources) or "0.0.0.0/0"
        aliases += (
            f"<alias><name>OBM_MONITOR</name><type>network</type><address>{monitors}</address>"
            "</alias>"
        )
        for number, (protocol, port) in enumerate((("tcp/udp", 4403), ("tcp", 4401))):
            # pfSense names the associated rule "NAT " + the port forward's Description, cut to
            # 59 characters.
            description = described[f"dnat-{protocol.replace('/', '-')}-{port}"]
            nat += (
                port_forward(protocol, port, f"nat_{number}")
                .replace("192.168.1.10", str(host))
                .replace(f"monitoring {protocol} {port}", description)
            )
            ours += (
                associated_rule(protocol, port, f"nat_{number}")
                .replace("192.168.1.10", str(host))
                .replace(f"NAT monitoring {protocol} {port}", f"NAT {description}"[:59])
            )
    return with_sections(filter_rules=ours, nat=nat, aliases=aliases, base=base)


# A customer who replaced the default allow rule: web and DNS out only.
CLOSED = FACTORY.replace(
    "<type>pass</type>\n\t\t\t<ipprotocol>inet</ipprotocol>",
    ("<type>pass</type>\n\t\t\t<protocol>tcp</protocol>\n\t\t\t<ipprotocol>inet</ipprotocol>"),
    1,
).replace(
    "<destination>\n\t\t\t\t<any></any>\n\t\t\t</destination>",
    "<destination>\n\t\t\t\t<any></any>\n\t\t\t\t<port>443</port>\n\t\t\t</destination>",
    1,
)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_rules_decide_every_flow_on_a_closed_lan(path):
    site = pfsense_site(path)
    config = round_trip_config(site, CLOSED)
    analysis = analyze(config, "pfsense", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        expected = "allowed" if guide_flow.expected == ALLOWED else "blocked"
        assert result.verdict.verdict == expected, (result.flow, result.verdict)
        if expected == "allowed":
            accepts = [c for c in result.verdict.lines if c.effect.startswith("accepts the new")]
            # Each accepting line is one of ours, found by its marker (the associated rule's
            # description is cut to 59 characters, after the marker).
            assert accepts and all(f"obm:{site_tag(site)}:" in c.text for c in accepts), accepts
    assert analysis.missing_steps == ()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_closed_baseline_alone_needs_every_step(path):
    site = pfsense_site(path)
    analysis = analyze(CLOSED, "pfsense", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        if guide_flow.expected == ALLOWED:
            assert result.verdict.verdict == "blocked", result.flow
    document = render_site(site, GUIDE_PROFILE, [get_renderer("pfsense")]).documents[0]
    assert list(analysis.missing_steps) == [
        s.title for s in document.steps if s.kind is StepKind.CHANGE
    ]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<pfsense><filter>&lol2;</filter></pfsense>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<pfsense><filter>&secret;</filter></pfsense>
"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BOMB, "refused"),
        (EXTERNAL, "refused"),
        ("<pfsense><filter>", "not well-formed"),
        ("<config/>", "not a config.xml"),
        (b"\x00\x01", "binary"),
        ("<pfsense>" + "<x/>\n" * 100_001 + "</pfsense>", "lines"),
    ],
)
def test_hostile_or_wrong_xml_is_a_clear_error(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_pfsense(data)


@pytest.mark.parametrize("vendor", ["pfsense", "opnsense"])
def test_the_command_reads_a_config_xml(vendor, tmp_path):
    path = tmp_path / "config.xml"
    path.write_text(FACTORY if vendor == "pfsense" else opnsense(FACTORY))
    out = StringIO()
    call_command(
        "analyze",
        str(path),
        "--vendor",
        vendor,
        "--site",
        "docs/examples/monitoring.json",
        "--inside-interface",
        "LAN",
        "--outside-interface",
        "WAN",
        "--flow",
        "tcp:192.168.1.10->203.0.113.1:4401",
        "--format",
        "json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["flows"][0]["verdict"] == "allowed"


def test_nested_aliases_resolve_once():
    """8 levels of aliases each naming the next 50 times: linear, not 50**8."""
    aliases = "".join(
        f"<alias><name>A{i}</name><type>network</type>"
        f"<address>{' '.join([f'A{i + 1}'] * 50 if i < 7 else [])} 10.0.{i}.0/24</address>"
        "</alias>"
        for i in range(8)
    )
    rule = """		<rule>
			<type>block</type>
			<interface>lan</interface>
			<source><address>A0</address></source>
			<destination><any></any></destination>
		</rule>
"""
    ruleset = parse_pfsense(with_sections(filter_rules=rule, aliases=aliases))
    block = ruleset.table("ip", "filter").chains["forward"].rules[2]  # after state, blockpriv
    assert len(block.match.source.networks) == 8 and not block.match.unknown
