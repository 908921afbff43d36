"""The Windows host renderer: firewall rules per protocol, persistent routes, one gateway; markers
and the host document of change and removal plans."""

from __future__ import annotations

import dataclasses
import re
from ipaddress import IPv4Network

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.policy import derive_rules
from sites.vendors import RENDERERS, renderers_for_site
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
        "New-NetFirewallRule -Name 'obm:test-site:host-out-tcp-4401' "
        "-DisplayName 'SecuriData Online Backup: out TCP 4401 (obm:test-site:host-out-tcp-4401)' "
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
    profile = dataclasses.replace(GUIDE_PROFILE, name='O\'Brien "Backup"')
    text = render("windows", make_site(host_os="windows"), profile).steps[0].config
    # The same rule name in both: netsh cannot take double quotes inside its quoted name.
    assert (
        "-DisplayName 'O''Brien ''Backup'': out TCP 4401 (obm:test-site:host-out-tcp-4401)'" in text
    )
    assert "name=\"O'Brien 'Backup': out TCP 4401 (obm:test-site:host-out-tcp-4401)\"" in text


# -- markers and plans (issue #12) ------------------------------------------------------------------


WINDOWS = RENDERERS["windows"]
# The example's firewall is nftables; iptables (markers since version 3) stands in for it here so
# the Windows document is tested beside a firewall document whatever nftables' state.
MULTIHOMED = dataclasses.replace(load_example("multihomed-windows"), vendor="iptables")


def items(site):
    return WINDOWS.managed_items(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)


def document(plan, vendor):
    return next(d for d in plan.documents if d.vendor == vendor)


def test_each_rule_is_named_by_its_marker_and_each_route_marked_above_it():
    site = MULTIHOMED
    created = {item.key: item for item in items(site)}
    assert set(created) == {
        "host-out-tcp-4401",
        "host-in-tcp-4403",
        "host-in-udp-4403",
        "host-in-tcp-4401",
        "route-198.51.100.7-32",
        "route-203.0.113.0-24",
    }
    for key, item in created.items():
        if key.startswith("route-"):
            assert item.create.splitlines()[0] == f"# {item.marker}"
            assert item.remove.splitlines()[1].endswith("-Confirm:$false")  # it asks otherwise
            assert not item.update  # a route's next hop cannot be changed in place
        else:
            assert item.create.startswith(f"New-NetFirewallRule -Name '{item.marker}' ")
            assert item.remove.splitlines()[0] == f"Remove-NetFirewallRule -Name '{item.marker}'"
            assert item.update.startswith(f"Set-NetFirewallRule -Name '{item.marker}' ")
            # netsh names the rule by the display name PowerShell gives it.
            display = re.search(r"-DisplayName '([^']*)'", item.create).group(1)
            assert f'add rule name="{display}"' in item.create
            assert f'delete rule name="{display}"' in item.remove


def test_a_host_that_is_not_windows_has_nothing_to_plan():
    assert items(dataclasses.replace(MULTIHOMED, host_os="linux")) == ()


@pytest.mark.parametrize("site", [MULTIHOMED, make_site(**MONITORING)], ids=["multihomed", "plain"])
def test_powershell_text_is_well_formed(site):
    """No PowerShell here to parse it: every line is a known command or a comment, single quotes
    pair up (a quote inside is doubled), and no double quote or $ reaches a PowerShell string."""
    texts = []
    for item in items(site):
        texts += [item.create, item.remove, item.update]
    texts += [step.config + "\n" + step.verify for step in render("windows", site).steps]
    commands = (
        "New-NetFirewallRule ",
        "Set-NetFirewallRule ",
        "Remove-NetFirewallRule ",
        "Get-NetFirewallRule ",
        "New-NetRoute ",
        "Remove-NetRoute ",
        "Find-NetRoute ",
        "Get-NetRoute ",
        "Test-NetConnection ",
        "route print",
        "#",
    )
    for line in "\n".join(texts).splitlines():
        if not line:
            continue
        assert line.startswith(commands), line
        if line.startswith("#"):
            continue
        assert line.count("'") % 2 == 0, line
        assert '"' not in line, line
        assert "$" not in line.replace("-Confirm:$false", ""), line


def test_removal_and_changes_in_place():
    plan = plan_removal(MULTIHOMED, GUIDE_PROFILE, renderers=[WINDOWS])
    text = "\n".join(step.config for step in plan.documents[0].steps)
    assert text.count("Remove-NetFirewallRule -Name ") == 4
    assert text.count("Remove-NetRoute ") == 2
    # Inbound first, routes last.
    assert text.index("host-in-") < text.index("host-out-") < text.index("Remove-NetRoute")
    anywhere = dataclasses.replace(MULTIHOMED, monitoring_sources=())
    change = plan_change(MULTIHOMED, GUIDE_PROFILE, anywhere, GUIDE_PROFILE, renderers=[WINDOWS])
    updated = [s for s in change.documents[0].steps if s.action == "change"]
    assert len(updated) == 1 and updated[0].config.count("-RemoteAddress Any ") == 3


def test_a_change_across_the_site_plans_the_host_document_too():
    """With the site's own renderers (firewall, then the Windows host), a new network card on the
    host changes its routes: the plan has the host's document, with the routes to move."""
    moved = dataclasses.replace(
        MULTIHOMED,
        host_address=load_example("multihomed-windows").host_interfaces[0].address + 10,
        host_interfaces=(
            dataclasses.replace(MULTIHOMED.host_interfaces[0], name="Ethernet 3", index=17),
            MULTIHOMED.host_interfaces[1],
        ),
        firewall_interface="Ethernet 3",
    )
    assert [r.slug for r in renderers_for_site(moved)] == ["iptables", "windows"]
    plan = plan_change(MULTIHOMED, GUIDE_PROFILE, moved, GUIDE_PROFILE)
    assert [d.vendor for d in plan.documents] == ["iptables", "windows"]
    host = document(plan, "windows")
    config = "\n".join(step.config for step in host.steps)
    assert "New-NetRoute -DestinationPrefix 203.0.113.0/24 -InterfaceIndex 17" in config
    assert "Remove-NetRoute -DestinationPrefix 203.0.113.0/24 -InterfaceIndex 12" in config
    assert config.index("New-NetRoute") < config.index("Remove-NetRoute")
    assert "NetFirewallRule" not in config  # the host's rules do not depend on its card
    assert document(plan, "iptables").steps  # the forwards follow the host's new address


def test_a_changed_monitoring_source_moves_the_host_route_and_its_rules():
    source = dataclasses.replace(MULTIHOMED, monitoring_sources=(IPv4Network("198.51.100.9/32"),))
    plan = plan_change(MULTIHOMED, GUIDE_PROFILE, source, GUIDE_PROFILE)
    config = "\n".join(step.config for step in document(plan, "windows").steps)
    assert "New-NetRoute -DestinationPrefix 198.51.100.9/32" in config
    assert "Remove-NetRoute -DestinationPrefix 198.51.100.7/32" in config
    assert config.count("Set-NetFirewallRule") == 3 and "-RemoteAddress 198.51.100.9/32" in config


def test_a_host_that_stops_running_windows_loses_the_host_document_entirely():
    linux = dataclasses.replace(MULTIHOMED, host_os="linux")
    plan = plan_change(MULTIHOMED, GUIDE_PROFILE, linux, GUIDE_PROFILE)
    host = document(plan, "windows")
    assert {s.action for s in host.steps if s.action} == {"remove"}
    assert "\n".join(s.config for s in host.steps).count("Remove-") == 6
