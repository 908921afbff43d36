"""What changed between two versions of a site, in words a customer understands: the reasons a
change plan gives for its steps ("The provider added 198.51.100.0/24 to its datacenter
networks."). Pure: the portal adds who changed it and when."""

from __future__ import annotations

from collections.abc import Iterable

from sites.description import ProfileSpec, SiteDescription
from sites.vendors import vendor_display_name
from sites.vendors.base import and_list


def describe_changes(
    old: SiteDescription,
    old_profile: ProfileSpec,
    new: SiteDescription,
    new_profile: ProfileSpec,
) -> tuple[str, ...]:
    """Every difference that can change the rules, one sentence each, site first, then the
    provider's profile; empty when nothing that matters changed."""
    changes: list[str] = []
    if old.vendor != new.vendor:
        changes.append(
            f"The firewall changed from {vendor_display_name(old.vendor)} to "
            f"{vendor_display_name(new.vendor)}."
        )
    if old.name != new.name:
        changes.append(
            f"The site was renamed from {old.name} to {new.name}; the markers of its rules "
            "carry the name."
        )
    if _backup_hosts(old) != _backup_hosts(new):
        changes.append(f"The backup host moved from {_backup_hosts(old)} to {_backup_hosts(new)}.")
    if old.lan_network != new.lan_network:
        changes.append(f"The LAN changed from {old.lan_network} to {new.lan_network}.")
    if (old.inside_interface, old.outside_interface) != (
        new.inside_interface,
        new.outside_interface,
    ):
        changes.append(
            f"The firewall's interfaces changed from {_interfaces(old)} to {_interfaces(new)}."
        )
    if old.public_address != new.public_address:
        changes.append(
            f"The public address changed from {old.public_address or 'dynamic'} to "
            f"{new.public_address or 'dynamic'}."
        )
    if old.monitoring_enabled and not new.monitoring_enabled:
        changes.append("Remote monitoring was turned off.")
    elif new.monitoring_enabled and not old.monitoring_enabled:
        changes.append("Remote monitoring was turned on.")
    elif new.monitoring_enabled:
        changes += _set_changes(
            "monitoring sources", old.monitoring_sources, new.monitoring_sources, who="You"
        )
        if old.monitoring_sources and not new.monitoring_sources:
            changes.append("Monitoring is now allowed from any address.")
    if (old.multi_homed, old.host_interfaces, old.firewall_interface) != (
        new.multi_homed,
        new.host_interfaces,
        new.firewall_interface,
    ):
        changes.append("The backup host's network interfaces changed.")
    if old.host_os != new.host_os:
        changes.append(f"The backup host's system changed from {old.host_os} to {new.host_os}.")
    changes += _set_changes(
        "datacenter networks", old_profile.datacenter_networks, new_profile.datacenter_networks
    )
    changes += _set_changes("backup ports", old_profile.outbound_ports, new_profile.outbound_ports)
    if new.monitoring_enabled and old.monitoring_enabled:
        changes += _set_changes(
            "monitoring ports", old_profile.monitoring_ports, new_profile.monitoring_ports
        )
    return tuple(changes)


def _backup_hosts(site: SiteDescription) -> str:
    if site.host_addressing == "range":
        return f"{site.host_range_start}-{site.host_range_end}"
    if site.host_address is not None and (
        site.host_addressing == "static" or site.dhcp_reservation_planned
    ):
        return str(site.host_address)
    return f"any address of {site.lan_network} (DHCP)"


def _interfaces(site: SiteDescription) -> str:
    return f"{site.inside_interface or 'default'}/{site.outside_interface or 'default'}"


def _set_changes(
    what: str, old: Iterable, new: Iterable, *, who: str = "The provider"
) -> list[str]:
    old_set, new_set = set(old), set(new)
    added = [str(item) for item in new if item not in old_set]
    removed = [str(item) for item in old if item not in new_set]
    sentences = []
    if added:
        sentences.append(f"{who} added {and_list(added)} to the {what}.")
    if removed:
        sentences.append(f"{who} removed {and_list(removed)} from the {what}.")
    return sentences
