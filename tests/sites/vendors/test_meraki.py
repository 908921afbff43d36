"""The Meraki renderer: one port forward per protocol, and an API recipe that merges, never overwrites."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from sites.description import GUIDE_PROFILE
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.managed import Exposure
from tests.sites.vendors.example_sites import (
    MONITORING,
    load_example,
    make_site,
    render,
    step_titled,
)


def api_script(rendered) -> str:
    return step_titled(rendered, "Or apply the same rules with the Dashboard API").config


def embedded(script: str, name: str) -> list[dict]:
    return json.loads(re.search(rf"{name}='(.*?)'\n", script, re.S).group(1))


def test_one_port_forward_per_protocol_with_allowed_remote_ips():
    rendered = render("meraki", load_example("monitoring"))
    forwards = embedded(api_script(rendered), "OURS_PF")
    assert [(f["protocol"], f["publicPort"]) for f in forwards] == [
        ("tcp", "4403"),
        ("udp", "4403"),
        ("tcp", "4401"),
    ]
    assert all(
        f["lanIp"] == "192.168.1.10" and f["allowedIps"] == ["198.51.100.7/32"] for f in forwards
    )
    gui = step_titled(rendered, "Forward the monitoring ports").config
    assert gui.count("Add a port forwarding rule:") == 3
    assert "Protocol: UDP" in gui and "Allowed remote IPs: 198.51.100.7/32" in gui


def test_api_reads_merges_and_writes_both_lists():
    script = api_script(render("meraki", load_example("monitoring")))
    for endpoint in ("l3FirewallRules", "portForwardingRules"):
        get = script.index(f'curl -sS --fail -H "$AUTH" "$API/{endpoint}"')
        put = script.index(f'"$API/{endpoint}" > /dev/null')
        assert get < put  # read before write
        assert f"--data @{endpoint}.after.json" in script  # the merged list, not ours alone
    assert 'select(.comment != "Default rule")' in script  # the GET's read-only default rule
    assert "$ours + [.rules[]" in script  # L3: ours first, then every existing rule
    assert "index($m)) | not)] + $ours" in script  # forwards: existing ones kept
    assert "exit 1" in script  # a conflicting forward stops the script


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_api_merge_keeps_existing_rules(tmp_path):
    script = api_script(render("meraki", load_example("monitoring")))
    (tmp_path / "curl").write_text(
        "#!/usr/bin/env bash\n"
        'url="${@: -1}"; method=GET; data=""\n'
        'while [ $# -gt 0 ]; do case "$1" in -X) method=$2; shift;; --data) data=$2; shift;; esac; shift; done\n'
        'ep=$(basename "$url")\n'
        'if [ "$method" = PUT ]; then cat "${data#@}" > "put.$ep.json"; else cat "fixture.$ep.json"; fi\n'
    )
    (tmp_path / "curl").chmod(0o755)
    (tmp_path / "fixture.l3FirewallRules.json").write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "comment": "Block guests",
                        "policy": "deny",
                        "protocol": "any",
                        "srcCidr": "10.9.0.0/16",
                        "srcPort": "Any",
                        "destCidr": "Any",
                        "destPort": "Any",
                        "syslogEnabled": False,
                    },
                    {
                        "comment": "Default rule",
                        "policy": "allow",
                        "protocol": "Any",
                        "srcCidr": "Any",
                        "srcPort": "Any",
                        "destCidr": "Any",
                        "destPort": "Any",
                        "syslogEnabled": False,
                    },
                ]
            }
        )
    )
    (tmp_path / "fixture.portForwardingRules.json").write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "name": "Web",
                        "lanIp": "192.168.1.20",
                        "uplink": "both",
                        "publicPort": "443",
                        "localPort": "443",
                        "allowedIps": ["any"],
                        "protocol": "tcp",
                    }
                ]
            }
        )
    )
    (tmp_path / "run.sh").write_text(script)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "MERAKI_API_KEY": "k", "NETWORK_ID": "L_1"}
    for _ in range(2):  # running it twice changes nothing
        result = subprocess.run(
            ["bash", "run.sh"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        for endpoint in ("l3FirewallRules", "portForwardingRules"):
            (tmp_path / f"fixture.{endpoint}.json").write_text(
                (tmp_path / f"put.{endpoint}.json").read_text()
            )
    l3 = json.loads((tmp_path / "put.l3FirewallRules.json").read_text())["rules"]
    assert [r["comment"] for r in l3] == [
        "obm:head-office-monitored:out-tcp-4401 Online backup TCP 4401 to datacenter",
        "Block guests",
    ]
    forwards = json.loads((tmp_path / "put.portForwardingRules.json").read_text())["rules"]
    assert [f["name"] for f in forwards][0] == "Web" and len(forwards) == 4


def test_nat_is_a_check_of_routed_mode():
    assert get_renderer("meraki").hides_lan_by_default
    check = step_titled(render("meraki", make_site()), "Check that the appliance translates")
    assert check.kind == "check" and check.config == "Mode: Routed"


def test_range_becomes_its_cidr_cover_and_dhcp_the_lan():
    ranged = render(
        "meraki",
        make_site(
            host_addressing="range",
            host_address=None,
            host_range_start="192.168.1.10",
            host_range_end="192.168.1.20",
        ),
    )
    assert "range_unsupported" in {w.code for w in ranged.warnings}
    rule = embedded(api_script(ranged), "OURS_L3")[0]
    assert rule["srcCidr"] == "192.168.1.10/31,192.168.1.12/30,192.168.1.16/30,192.168.1.20/32"
    dhcp = render("meraki", make_site(host_addressing="dhcp", host_address=None))
    assert embedded(api_script(dhcp), "OURS_L3")[0]["srcCidr"] == "192.168.1.0/24"


def test_without_monitoring_no_port_forwards():
    script = api_script(render("meraki", make_site()))
    assert "portForwardingRules" not in script and "OURS_PF" not in script


def test_monitoring_from_any_and_dynamic_address():
    rendered = render(
        "meraki", make_site(**{**MONITORING, "monitoring_sources": [], "public_address": None})
    )
    assert all(f["allowedIps"] == ["any"] for f in embedded(api_script(rendered), "OURS_PF"))
    assert "dynamic DNS name" in step_titled(rendered, "Forward the monitoring ports").reason


def test_uplink_from_the_outside_interface():
    rendered = render("meraki", make_site(**MONITORING, outside_interface="internet2"))
    assert {f["uplink"] for f in embedded(api_script(rendered), "OURS_PF")} == {"internet2"}
    assert {
        f["uplink"]
        for f in embedded(api_script(render("meraki", make_site(**MONITORING))), "OURS_PF")
    } == {"both"}


def items(**changes):
    description = make_site(vendor="meraki", **changes)
    renderer = get_renderer("meraki")
    policy = derive_rules(description, GUIDE_PROFILE)
    return {item.key: item for item in renderer.managed_items(policy, description, GUIDE_PROFILE)}


def test_items_carry_the_marker_first_in_comment_and_description():
    marked = items(**MONITORING)
    assert list(marked) == ["out-tcp-4401", "dnat-tcp-4403", "dnat-udp-4403", "dnat-tcp-4401"]
    assert marked["out-tcp-4401"].exposure is Exposure.OUTBOUND
    assert (
        "  Comment: obm:test-site:out-tcp-4401 Online backup TCP 4401 to datacenter"
        in marked["out-tcp-4401"].create
    )
    forward = marked["dnat-udp-4403"]
    assert forward.exposure is Exposure.INBOUND
    assert "  Description: obm:test-site:dnat-udp-4403 Online backup monitoring UDP 4403" in (
        forward.create
    )
    assert forward.update.startswith(
        "Security & SD-WAN › Configure › Firewall › Port forwarding: edit the rule whose "
        "Description begins with obm:test-site:dnat-udp-4403"
    )
    assert "the fixed last rule (allow any, the Default rule) is Meraki's own and stays" in (
        marked["out-tcp-4401"].remove
    )


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize(
    ("key", "endpoint", "kept"),
    [
        ("out-tcp-4401", "l3FirewallRules", ["Block guests"]),
        (
            "dnat-udp-4403",
            "portForwardingRules",
            ["Web", "obm:test-site:dnat-tcp-4403 Online backup monitoring TCP 4403", None],
        ),
    ],
)
def test_api_removal_drops_only_our_entry_from_the_whole_list(tmp_path, key, endpoint, kept):
    """The removal's API lines on a real jq: the whole list minus our entry (and, for the L3
    list, minus the read-only Default rule the GET appends) is what gets PUT."""
    field = "comment" if endpoint == "l3FirewallRules" else "name"
    current = [
        {field: "Block guests" if field == "comment" else "Web"},
        {field: f"obm:test-site:{key} Online backup"},
        {field: "obm:test-site:dnat-tcp-4403 Online backup monitoring TCP 4403"},
        {},  # no comment or name at all
    ]
    if field == "comment":
        current = [current[0], current[1], {"comment": "Default rule"}]
    (tmp_path / "curl").write_text(
        "#!/usr/bin/env bash\n"
        'url="${@: -1}"; method=GET; data=""\n'
        'while [ $# -gt 0 ]; do case "$1" in -X) method=$2; shift;; --data) data=$2; shift;; esac; shift; done\n'
        'if [ "$method" = PUT ]; then cat "${data#@}" > put.json; else cat fixture.json; fi\n'
    )
    (tmp_path / "curl").chmod(0o755)
    (tmp_path / "fixture.json").write_text(json.dumps({"rules": current}))
    removal = items(**MONITORING)[key].remove
    script = removal[removal.index("curl ") :]
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "API": "https://x/api", "AUTH": "A: b"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    put = json.loads((tmp_path / "put.json").read_text())["rules"]
    assert [rule.get(field) for rule in put] == kept
