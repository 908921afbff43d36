"""The Check Point renderer: TCP/UDP services, automatic hide NAT on the host object, manual
static NAT per service for inbound, access rule on the real address, publish and install."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import get_renderer
from tests.sites.vendors.example_sites import MONITORING, config_for, make_site

HIDE = 'nat-settings.auto-rule true nat-settings.method "hide" nat-settings.hide-behind "gateway"'


def script(**changes) -> str:
    return config_for("checkpoint", **changes)


def commands(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"mgmt_cli {start}")]


def test_one_session_login_publish_install_logout():
    text = script(**MONITORING)
    assert "mgmt_cli login -r true > id.txt" in text
    mgmt = [line for line in text.splitlines() if line.startswith("mgmt_cli ")]
    assert all(line.endswith(" -s id.txt") for line in mgmt[1:])
    assert [line.split()[1] for line in mgmt[-3:]] == ["publish", "install-policy", "logout"]
    assert 'targets.1 "$GW"' in mgmt[-2]


def test_one_static_nat_rule_per_service_to_the_real_host():
    nat = commands(script(**MONITORING), "add nat-rule")
    assert len(nat) == 3
    for line, service in zip(nat, ("obm-tcp-4403", "obm-udp-4403", "obm-tcp-4401"), strict=True):
        assert "method static" in line
        assert f'original-service "{service}"' in line
        assert 'original-destination "obm-public"' in line
        assert 'translated-destination "obm-host"' in line
        assert 'original-source "obm-monitors"' in line


def test_inbound_access_rule_names_the_real_address():
    text = script(**MONITORING)
    rule = [line for line in commands(text, "add access-rule") if "obm-monitoring-in" in line][0]
    assert 'destination "obm-host"' in rule and "obm-public" not in rule
    assert 'service.1 "obm-tcp-4403" service.2 "obm-udp-4403" service.3 "obm-tcp-4401"' in rule
    assert 'source "obm-monitors"' in rule
    assert (
        'add group name "obm-monitors" members.1 "obm-mon-198.51.100.7-32" '
        'comments "obm:test-site:monitors"'
    ) in text


def test_no_automatic_static_nat_on_the_host():
    assert 'nat-settings.method "static"' not in script(**MONITORING)


def test_range_is_an_address_range_with_hide_nat():
    text = script(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert (
        f'add address-range name "obm-hosts" ip-address-first "192.168.1.10" '
        f'ip-address-last "192.168.1.20" {HIDE}'
    ) in text
    assert 'source "obm-hosts"' in text


def test_several_sources_are_one_group_and_any_source_is_explicit():
    text = script(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert (
        'add group name "obm-monitors" members.1 "obm-mon-198.51.100.7-32" '
        'members.2 "obm-mon-198.51.100.0-28"'
    ) in text
    assert all('original-source "obm-monitors"' in line for line in commands(text, "add nat-rule"))
    anywhere = script(**{**MONITORING, "monitoring_sources": []})
    inbound = [
        line for line in commands(anywhere, "add access-rule") if "obm-monitoring-in" in line
    ][0]
    # "Any" named, so that changing a rule in place (`set`) also resets a narrower source
    assert 'source "Any"' in inbound
    assert all('original-source "Any"' in line for line in commands(anywhere, "add nat-rule"))


def test_dynamic_public_address_uses_the_gateway_object():
    text = script(**{**MONITORING, "public_address": None})
    assert "obm-public" not in text
    assert all('original-destination "$GW"' in line for line in commands(text, "add nat-rule"))


def test_monitoring_target_is_its_own_host_with_dhcp():
    text = script(
        **MONITORING,
        host_addressing="dhcp",
        host_address="192.168.1.50",
        dhcp_reservation_planned=False,
    )
    assert (
        'mgmt_cli add host name "obm-host" ip-address "192.168.1.50" '
        'comments "obm:test-site:host" -s id.txt'
    ) in text
    assert 'translated-destination "obm-host"' in text


def test_plans_delete_rules_by_name_before_objects_and_publish_each_step():
    site = make_site(vendor="checkpoint", **MONITORING)
    renderer = [get_renderer("checkpoint")]
    removal = plan_removal(site, GUIDE_PROFILE, renderers=renderer).documents[0].steps
    text = "".join(step.config for step in removal)
    assert text.index('delete nat-rule package "$PACKAGE" name "obm-fwd-tcp-4403"') < text.index(
        'delete service-tcp name "obm-tcp-4403"'
    )
    assert text.index('delete access-rule layer "$LAYER" name "obm-monitoring-in"') < (
        text.index('delete group name "obm-monitors"')
    )
    assert text.index('delete group name "obm-monitors"') < text.index(
        'delete host name "obm-mon-198.51.100.7-32"'
    )
    changes = [step for step in removal if step.config]
    assert text.count("mgmt_cli publish") == text.count("mgmt_cli login") == len(changes)
    moved = make_site(vendor="checkpoint", **{**MONITORING, "host_address": "192.168.1.20"})
    change = plan_change(site, GUIDE_PROFILE, moved, GUIDE_PROFILE, renderers=renderer)
    text = "".join(step.config for step in change.documents[0].steps)
    assert 'mgmt_cli set host name "obm-host" ip-address "192.168.1.20"' in text
    assert "delete" not in text and "add " not in text  # in place: the rules keep their place
