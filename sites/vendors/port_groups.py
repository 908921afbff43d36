"""Rules grouped by port, for the firewalls that take TCP and UDP in one rule (pf, pfSense,
OPNsense): the monitoring port 4403 is then one rule for both protocols.
"""

from __future__ import annotations

from sites.policy import Rule


def by_port(rules: tuple[Rule, ...]) -> list[tuple[Rule, ...]]:
    """Rules that differ only in protocol, grouped, in policy order."""
    groups: dict[tuple, list[Rule]] = {}
    for rule in rules:
        key = (rule.port, rule.hosts, rule.datacenter, rule.allowed_sources, rule.public_address)
        groups.setdefault(key, []).append(rule)
    return [tuple(group) for group in groups.values()]


def protocols_label(rules: tuple[Rule, ...]) -> str:
    """E.g. "TCP 4401" or "TCP and UDP 4403" for a group of ``by_port``."""
    return " and ".join(r.required_protocol.upper() for r in rules) + f" {rules[0].port}"


def ports_regex(rules: tuple[Rule, ...]) -> str:
    """The rules' ports as a regular expression alternative for grep: ``4403|4401``."""
    return "|".join(dict.fromkeys(str(r.port) for r in rules))
