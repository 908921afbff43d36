"""What an inbound step, object, comment or remark says about who may connect in: the monitoring
computers, and the portal's inbound checks where the policy added their address to them
(``sites.policy``, #13)."""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.policy import Policy, Rule
from sites.vendors.managed import network_key


def only_monitoring_sources(
    rule: Rule, who: str = "the monitoring computers", *, suffix: str = ""
) -> str:
    """The sentence of an inbound step restricted to the monitoring sources, true also where
    the policy added the portal's check source to them (``Rule.check_source``)."""
    if rule.check_source is not None:
        who += f" and the portal's checks (from {rule.check_source.network_address})"
    return f"Only {who} may connect{suffix}."


# How every renderer labels an allowed source: the portal's check source is not one of the
# customer's monitoring computers, so its names, comments and remarks say what it is, and its
# key (``check-…``) is its own, so a new check address removes the old one's items.
CHECK_SOURCE_WORDS = "portal's inbound check"
CHECK_SOURCE_LABEL = CHECK_SOURCE_WORDS.capitalize()  # where a comment begins with it
CHECK_SOURCE_UNQUOTED = "portal inbound check"  # inside single quotes (no apostrophe)


def is_check_source(network: IPv4Network, rule: Rule) -> bool:
    """Whether ``network``, one of ``rule.allowed_sources``, is the portal's check source."""
    return network == rule.check_source


def allowed_source_key(network: IPv4Network, rule: Rule) -> str:
    """The item key of one allowed source where it is an object or entry of its own:
    ``check-198.51.100.200-32`` for the portal's check source, ``mon-198.51.100.7-32`` for a
    monitoring computer (``sites.vendors.names.source_object_names`` for named objects)."""
    role = "check" if is_check_source(network, rule) else "mon"
    return f"{role}-{network_key(network)}"


def source_words(network: IPv4Network, rule: Rule, monitoring: str = "") -> str:
    """One allowed source in a title: "portal's inbound check 198.51.100.200" for the portal's
    check source, ``monitoring`` and the network ("198.51.100.7/32") for a monitoring
    computer."""
    if is_check_source(network, rule):
        return f"{CHECK_SOURCE_WORDS} {network.network_address}"
    return f"{monitoring}{network}"


def sources_label(rule: Rule, monitoring: str = "the monitoring computers") -> str:
    """Who a group of ``rule.allowed_sources`` holds: "the monitoring computers", "plus the
    portal's inbound check" where the policy added it."""
    if rule.check_source is None:
        return monitoring
    return f"{monitoring} plus the {CHECK_SOURCE_WORDS}"


def connecting(rule: Rule) -> str:
    """Who the inbound rule lets connect, for a rule's title or remark: "monitoring GUI", or
    "monitoring GUI and portal's checks" where the policy added the check source."""
    return "monitoring GUI" + (" and portal's checks" if rule.check_source is not None else "")


def route_words(route: Rule, policy: Policy) -> str:
    """A static route's destination in a title: the portal's check source is named so (the
    policy routes it like the monitoring sources), any other network as itself."""
    destination = route.required_route_destination
    if any(rule.check_source == destination for rule in policy.rules):
        return f"the {CHECK_SOURCE_WORDS} {destination.network_address}"
    return str(destination)
