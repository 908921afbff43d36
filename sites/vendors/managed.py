"""What a renderer creates on the customer's firewall, item by item, so it can be changed and
removed later (the change and removal plans of ``sites.plans``).

A renderer lists its :class:`ManagedItem` objects for a policy (``Renderer.managed_items``): each
object, rule, translation or route the instructions create, with the configuration that creates
it and the one that removes it. Every item carries a **marker**, ``obm:<site>:<key>``, in the
vendor's comment, remark, description or name, so the customer (and the removal text) finds it
again; the ``key`` names the item's role (``out-tcp-4401``, ``dnat-udp-4403``, ``hosts``), not its
content, so it stays the same across versions while the content changes.

``exposure`` says how an item's change is ordered (``sites.plans.engine``):

- ``OUTBOUND`` lets traffic out: the new one is added before the old one is removed, so backups
  keep running;
- ``INBOUND`` lets traffic in (port forwards, inbound allows): the old one is removed before the
  new one is added, so the firewall is never open to both;
- ``SUPPORT`` is used by rules (address and service objects, source NAT, routes): created before
  the rules that use it, removed after them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network

from sites.description import SiteDescription
from sites.policy import GuideRule, Rule, RuleKind

MARKER_PREFIX = "obm"


class Exposure(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    SUPPORT = "support"


@dataclass(frozen=True, kw_only=True)
class ManagedItem:
    """One thing the instructions create on the firewall (or the backup host).

    - ``marker``: ``marker(site, key)``, as the configuration carries it;
    - ``create``: the configuration that creates it, with its marker;
    - ``remove``: the configuration that removes exactly it, and nothing else;
    - ``update``: configuration that changes it in place into this version (set-style syntax that
      overwrites, e.g. FortiGate ``edit``/``set``); empty when a change means removing the old
      item and creating the new one;
    - ``renames_in_place``: ``update`` finds the item without its marker (by its number, its
      address or the key its name ends in), so it also works after the site was renamed and
      the marker changed; otherwise a rename removes the item and creates it again;
    - ``section``: where the text goes in a file the vendor loads (iptables' table), joined by
      ``Renderer.plan_section``;
    - ``uses``: keys of items this one refers to (an address object named by a rule);
    - ``gui_path``: where the item lives in the vendor's interface (default: the renderer's);
    - ``customer_object``: the name of the customer's own object that stands for this item (a
      configuration check found one of the same value, ``sites.vendors.reuse``). The rules use
      it, but it is the customer's: plans never create, change or remove it, and ``create``,
      ``update`` and ``remove`` are empty.
    """

    key: str
    marker: str
    title: str
    exposure: Exposure
    create: str
    remove: str
    update: str = ""
    renames_in_place: bool = False
    section: str = ""
    uses: tuple[str, ...] = ()
    gui_path: str = ""
    guide_rules: tuple[GuideRule, ...] = ()
    customer_object: str = ""


def site_tag(site: SiteDescription) -> str:
    """The site part of a marker: the site's name in lower case, letters, digits and hyphens
    only, at most 24 characters ("site" if nothing is left). Renaming a site changes it, which a
    change plan then shows as a change of every item's marker."""
    tag = re.sub(r"[^a-z0-9]+", "-", site.name.lower()).strip("-")[:24].strip("-")
    return tag or "site"


def marker(site: SiteDescription, key: str) -> str:
    """``obm:<site>:<key>``: what an item's comment, remark or description holds."""
    return f"{MARKER_PREFIX}:{site_tag(site)}:{key}"


_KIND_KEYS = {
    RuleKind.ALLOW_OUTBOUND: "out",
    RuleKind.SOURCE_NAT: "snat",
    RuleKind.DESTINATION_NAT: "dnat",
    RuleKind.ALLOW_INBOUND: "in",
    RuleKind.HOST_FIREWALL_OUTBOUND: "host-out",
    RuleKind.HOST_FIREWALL_INBOUND: "host-in",
}


def rule_key(rule: Rule) -> str:
    """The stable key of a firewall rule by its role: ``out-tcp-4401``, ``dnat-udp-4403``; a
    static route by its destination: ``route-203.0.113.0-24``."""
    if rule.kind is RuleKind.STATIC_ROUTE:
        return "route-" + network_key(rule.required_route_destination)
    return f"{_KIND_KEYS[rule.kind]}-{rule.protocol}-{rule.port}"


def network_key(network) -> str:
    """A network as key text: ``198.51.100.0-24`` (no slash: some vendors' names refuse it)."""
    return str(network).replace("/", "-")


@dataclass(frozen=True)
class OwnObject:
    """An object the instructions create, as a renderer describes it for reuse.

    - ``key``: its managed item's key; ``name``: how the configuration text names it;
    - ``kinds``: the kinds of customer object that may stand for it where it is used
      (``ADDRESS``, ``GROUP``, ``SERVICE`` of ``sites.analyzer.model``);
    - ``networks`` or ``services``: its value;
    - ``text``: what the complete instructions show to create it (default: the item's
      ``create``), left out when it is reused;
    - ``members``: keys of items only this object needs (a group's member objects), left out
      with it.
    """

    key: str
    name: str
    kinds: tuple[str, ...]
    networks: tuple[IPv4Network, ...] = ()
    services: frozenset[tuple[str, int, int]] = frozenset()
    text: str = ""
    members: tuple[str, ...] = ()
