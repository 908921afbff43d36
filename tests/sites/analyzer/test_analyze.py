"""The analysis as a whole: the guide's flows, the round trip through our own rendered rules, the
JSON shape, the missing steps and the input limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sites.analyzer.analyze import analyze, as_json
from sites.analyzer.flows import ALLOWED, REFUSED, Flow, FlowError, guide_flows
from sites.analyzer.model import ConfigError
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.policy import GuideRule
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.formats import config_file
from tests.sites.analyzer.configs import DISTRO_NFT, DOCKER_ROUTER, site
from tests.sites.vendors.example_sites import CHECK_SOURCE, PORTAL_PROFILE

EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
BASELINES = {"iptables": DOCKER_ROUTER, "nftables": DISTRO_NFT}


def example(path: Path) -> SiteDescription:
    return SiteDescription.from_dict(json.loads(path.read_text()))


def rendered(site_obj: SiteDescription, vendor: str):
    return render_site(site_obj, GUIDE_PROFILE, [get_renderer(vendor)]).documents[0]


def test_flow_parse_and_print():
    flow = Flow.parse("udp:198.51.100.7->192.0.2.1:4403")
    assert (flow.protocol, str(flow.source), flow.destination_port) == ("udp", "198.51.100.7", 4403)
    assert str(flow) == "udp:198.51.100.7->192.0.2.1:4403"
    assert str(Flow.parse("TCP:10.0.0.1:5555->10.0.0.2:80")) == "tcp:10.0.0.1:5555->10.0.0.2:80"
    for wrong in (
        "tcp:1.2.3.4->5.6.7.8",
        "icmp:1.2.3.4->5.6.7.8:1",
        "tcp:a->b:1",
        "tcp:1.2.3.4->5.6.7.8:0",
    ):
        with pytest.raises(FlowError):
            Flow.parse(wrong)


def test_guide_flows_for_a_monitored_static_host():
    flows = guide_flows(site(), GUIDE_PROFILE)
    assert [(str(g.flow), g.expected) for g in flows] == [
        ("tcp:192.168.1.10->203.0.113.1:4401", ALLOWED),
        ("tcp:192.168.1.254->203.0.113.1:4401", REFUSED),
        ("tcp:198.51.100.7->192.0.2.1:4403", ALLOWED),
        ("udp:198.51.100.7->192.0.2.1:4403", ALLOWED),
        ("tcp:198.51.100.7->192.0.2.1:4401", ALLOWED),
        ("tcp:198.51.100.99->192.0.2.1:4403", REFUSED),
    ]
    assert flows[0].needs_source_nat


def test_guide_flows_for_dhcp_without_reservation_have_no_restriction():
    flows = guide_flows(example(Path("docs/examples/dhcp-host.json")), GUIDE_PROFILE)
    assert [g.expected for g in flows] == [ALLOWED]


@pytest.mark.parametrize("vendor", sorted(BASELINES))
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_rules_on_a_realistic_baseline_are_allowed(vendor, path):
    """Our own rendered file, loaded on top of a customer's config, does what the guide needs,
    and the lines deciding each allowed flow are ours."""
    site_obj = example(path)
    baseline = BASELINES[vendor]
    ours_from = len(baseline.splitlines()) + 1
    config = baseline + config_file(rendered(site_obj, vendor))
    analysis = analyze(config, vendor, site_obj, GUIDE_PROFILE)
    assert analysis.missing_steps == ()
    for guide_flow, result in zip(
        guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True
    ):
        verdict = result.verdict
        expected = "allowed" if guide_flow.expected == ALLOWED else "blocked"
        assert verdict.verdict == expected, (result.flow, verdict)
        if expected == "allowed":
            # The accepts are ours; the translation may be the customer's own masquerade.
            accepts = [c for c in verdict.lines if c.effect == "accepts the new connection"]
            assert accepts and all(c.line >= ours_from for c in accepts), verdict.lines
            assert verdict.translated_source or verdict.translated_destination


@pytest.mark.parametrize("vendor", sorted(BASELINES))
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_the_baseline_alone_is_blocked_and_needs_every_step(vendor, path):
    site_obj = example(path)
    analysis = analyze(BASELINES[vendor], vendor, site_obj, GUIDE_PROFILE)
    needed = guide_flows(site_obj, GUIDE_PROFILE)
    for guide_flow, result in zip(needed, analysis.results, strict=True):
        assert result.verdict.verdict == "blocked", result.flow
        assert guide_flow.expected == REFUSED or result.verdict.lines or result.verdict.reason
    change_steps = [s.title for s in rendered(site_obj, vendor).steps if s.kind is StepKind.CHANGE]
    assert list(analysis.missing_steps) == change_steps


def test_missing_steps_name_only_what_fails():
    """Everything but the translation in place: only the nat step is missing."""
    site_obj = site(monitoring_enabled=False)
    text = (
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        "-A FORWARD -i eth1 -o eth0 -s 192.168.1.10 -p tcp --dport 4401 -j ACCEPT\nCOMMIT\n"
    )
    analysis = analyze(text, "iptables", site_obj, GUIDE_PROFILE)
    assert analysis.results[0].verdict.verdict == "allowed"
    assert analysis.missing_steps == ("Translate the backup connections (nat table)",) or all(
        "nat" in title for title in analysis.missing_steps
    )
    assert len(analysis.missing_steps) == 1


def test_json_shape_and_flows_in_the_order_asked():
    asked = [
        Flow.parse("udp:198.51.100.7->192.0.2.1:4403"),
        Flow.parse("tcp:192.168.1.10->203.0.113.10:443"),
    ]
    payload = as_json(analyze(DOCKER_ROUTER, "iptables", site(), GUIDE_PROFILE, asked))
    assert list(payload) == ["vendor", "flows", "unrecognised", "missing_steps"]
    assert [f["flow"] for f in payload["flows"]] == [str(f) for f in asked]
    first = payload["flows"][0]
    assert list(first) == [
        "flow",
        "verdict",
        "translated_source",
        "translated_destination",
        "lines",
        "reason",
    ]
    assert payload["flows"][1]["lines"][0] == {
        "line": 29,
        "text": "-A FORWARD -i eth1 -o eth0 -j LAN-OUT",
        "effect": "passes the new connection to LAN-OUT",
    }
    assert payload["unrecognised"][0] == {
        "line": 8,
        "text": "-A FORWARD -o eth0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
        "reason": "--tcp-flags",
        "could_affect": ["forward"],
    }
    json.dumps(payload)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00", "binary"),
        (b"*filter\n:FORWARD DROP \xff\xfe\n", "not UTF-8"),
        (b"#" * 5_000_001, "limit is 5,000,000 bytes"),
        ("\n" * 100_001, "limit is 100,000"),
    ],
)
def test_hostile_input_is_a_clear_error(data, message):
    for vendor in BASELINES:
        with pytest.raises(ConfigError, match=message):
            analyze(data, vendor, site(), GUIDE_PROFILE)


def test_unsupported_vendor_lists_the_supported_ones():
    with pytest.raises(ConfigError, match="supported: .*iptables, .*nftables"):
        analyze("", "no-such-vendor", site(), GUIDE_PROFILE)


def test_broken_json_is_a_clear_error():
    with pytest.raises(ConfigError, match="not nft JSON"):
        analyze('{"nftables": ', "nftables", site(), GUIDE_PROFILE)


def test_large_config_is_linear():
    """100k lines of rules parse and evaluate (the cap), without pathological slowness."""
    rules = "".join(
        f"-A FORWARD -s 10.{i // 250 % 250}.{i % 250}.0/24 -j DROP\n" for i in range(99_990)
    )
    text = "*filter\n:FORWARD ACCEPT [0:0]\n" + rules + "COMMIT\n"
    analysis = analyze(text, "iptables", site(monitoring_enabled=False), GUIDE_PROFILE)
    assert analysis.results[0].verdict.verdict == "allowed"


def test_guide_flows_include_the_portals_check_where_monitoring_is_restricted():
    """#13: the restriction must let the portal's inbound check in, or its proof fails."""
    flows = guide_flows(site(), PORTAL_PROFILE)
    checks = [(str(g.flow), g.expected) for g in flows if g.flow.source == CHECK_SOURCE]
    assert checks == [
        ("tcp:198.51.100.200->192.0.2.1:4403", ALLOWED),
        ("udp:198.51.100.200->192.0.2.1:4403", ALLOWED),
        ("tcp:198.51.100.200->192.0.2.1:4401", ALLOWED),
    ]
    anywhere = guide_flows(site(monitoring_sources=[]), PORTAL_PROFILE)
    assert not [g for g in anywhere if g.flow.source == CHECK_SOURCE]


@pytest.mark.parametrize("vendor", sorted(BASELINES))
def test_round_trip_our_rules_let_the_portals_check_in_and_the_old_ones_did_not(vendor):
    site_obj = example(Path("docs/examples/monitoring.json"))
    ours = render_site(site_obj, PORTAL_PROFILE, [get_renderer(vendor)]).documents[0]
    analysis = analyze(BASELINES[vendor] + config_file(ours), vendor, site_obj, PORTAL_PROFILE)
    assert analysis.missing_steps == ()
    verdicts = {str(r.flow): r.verdict.verdict for r in analysis.results}
    assert verdicts["tcp:198.51.100.200->192.0.2.1:4403"] == "allowed"
    # The rules rendered without the check source leave it out: the monitoring steps are missing.
    before = BASELINES[vendor] + config_file(rendered(site_obj, vendor))
    missing = analyze(before, vendor, site_obj, PORTAL_PROFILE).missing_steps
    monitoring_steps = [
        s.title
        for s in ours.steps
        if s.kind is StepKind.CHANGE and GuideRule.REMOTE_MONITORING in s.guide_rules
    ]
    assert missing and list(missing) == monitoring_steps
