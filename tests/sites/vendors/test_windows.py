"""The Windows host renderer: firewall rules per protocol, persistent routes, one gateway."""

from __future__ import annotations

from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import load_example, make_site, render

MONITORING = {
    "monitoring_enabled": True,
    "monitoring_sources": ["198.51.100.7/32"],
    "public_address": "192.0.2.1",
    "host_os": "windows",
}


def test_outbound_rule_with_netsh_alternative():
    text = config_file(render("windows", make_site(host_os="windows")))
    assert (
        "New-NetFirewallRule -DisplayName 'SecuriData Online Backup: out TCP 4401' "
        "-Direction Outbound -Action Allow -Protocol TCP -RemotePort 4401 "
        "-RemoteAddress 203.0.113.0/24 -Profile Any"
    ) in text
    assert "# netsh advfirewall firewall add rule" in text
    assert "Inbound" not in text  # nothing inbound without monitoring


def test_inbound_rules_one_per_protocol():
    rendered = render("windows", make_site(**MONITORING))
    inbound = [s for s in rendered.steps if "monitoring GUI in" in s.title][0]
    commands = [
        line for line in inbound.config.splitlines() if line.startswith("New-NetFirewallRule")
    ]
    assert len(commands) == 3
    assert "-Protocol TCP -LocalPort 4403 -RemoteAddress 198.51.100.7/32" in commands[0]
    assert "-Protocol UDP -LocalPort 4403 -RemoteAddress 198.51.100.7/32" in commands[1]
    assert "-Protocol TCP -LocalPort 4401" in commands[2]


def test_inbound_from_any_source_names_no_remote_address():
    rendered = render("windows", make_site(**{**MONITORING, "monitoring_sources": []}))
    inbound = [s for s in rendered.steps if "monitoring GUI in" in s.title][0]
    assert "RemoteAddress" not in inbound.config and "remoteip" not in inbound.config


def test_multi_homed_routes_via_the_facing_interface():
    rendered = render("windows", load_example("multihomed-windows"))
    routes = [s for s in rendered.steps if "routes" in s.title][0]
    assert (
        "New-NetRoute -DestinationPrefix 198.51.100.7/32 -InterfaceIndex 12 -NextHop 192.168.1.1"
        in routes.config
    )
    assert (
        "New-NetRoute -DestinationPrefix 203.0.113.0/24 -InterfaceIndex 12 -NextHop 192.168.1.1"
        in routes.config
    )
    assert "route -p ADD 198.51.100.7 MASK 255.255.255.255 192.168.1.1 IF 12" in routes.config
    assert "route -p ADD 203.0.113.0 MASK 255.255.255.0 192.168.1.1 IF 12" in routes.config
    assert "Find-NetRoute -RemoteIPAddress 198.51.100.7" in routes.verify
    assert "route print" in routes.verify
    check = rendered.steps[-1]
    assert check.kind == "check" and "default gateway" in check.title


def test_verify_uses_test_netconnection():
    rendered = render("windows", make_site(host_os="windows"))
    assert "Test-NetConnection -ComputerName 203.0.113.1 -Port 4401" in rendered.steps[0].verify


def test_non_windows_host_gets_a_single_check():
    rendered = render(
        "windows",
        make_site(host_os="linux", **{k: v for k, v in MONITORING.items() if k != "host_os"}),
    )
    (step,) = rendered.steps
    assert step.kind == "check" and "Linux" in step.reason
    assert config_file(rendered) == ""


def test_quotes_in_the_profile_name_are_escaped():
    from dataclasses import replace

    from sites.description import GUIDE_PROFILE

    profile = replace(GUIDE_PROFILE, name='O\'Brien "Backup"')
    text = render("windows", make_site(host_os="windows"), profile).steps[0].config
    # The same rule name in both: netsh cannot take double quotes inside its quoted name.
    assert "-DisplayName 'O''Brien ''Backup'': out TCP 4401'" in text
    assert "name=\"O'Brien 'Backup': out TCP 4401\"" in text
