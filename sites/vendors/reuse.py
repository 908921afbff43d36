"""Instructions adjusted to a customer's current configuration (after a configuration check):
they **reuse** the customer's objects whose value equals one the instructions would create, and
**place** their accept rule above an existing deny that would otherwise refuse the connection
first. With nothing to adjust, the instructions are exactly the unadjusted ones.

- A renderer lists the objects it creates that a customer's object may stand for
  (``Renderer.reusable_objects``: an address object for the backup host, the datacenter group, a
  service for TCP 4401 …). Where the analysed configuration has an object of an accepted kind with
  exactly that value (``ExistingObjects``), the instructions name the customer's object instead
  (``Renderer.rename_object``) and do not create ours; a group reused makes the member objects
  only it needed unnecessary too.
- The customer's object stays the customer's: the managed item for it keeps its key but carries
  ``customer_object`` and no configuration, so change and removal plans (``sites.plans``) never
  create, change or remove it (``sites.plans.engine.diff_items`` leaves such items out).
- For each flow the guide needs that an explicit deny refuses (``ShadowingRule``), the step
  that adds the accept says which line would block it and how the rule is placed above it
  (``Renderer.place_above``: the vendor's own syntax, or where its instructions already put the
  rule at the top, that they do and why). Rules it *copies* into the deny's chain (iptables'
  mangle table, another nftables base chain) are managed items too
  (``Renderer.placed_items``), so a plan from adjusted instructions removes them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sites.analyzer.model import (
    ADDRESS,
    GROUP,
    SERVICE,
    ExistingObjects,
    NamedObject,
    ShadowingRule,
)
from sites.description import ProfileSpec, SiteDescription
from sites.policy import Policy, RuleKind
from sites.vendors.base import PlansUnavailable, Rendered, Renderer, Step, StepKind
from sites.vendors.managed import ManagedItem, OwnObject
from sites.vendors.names import (
    hosts_object_name,
    network_names,
    port_object_name,
    source_object_names,
    whole_name,
)

_OUR_NAMES = re.compile(r"obm[-_]", re.IGNORECASE)
_KIND_WORDS = {ADDRESS: "address object", GROUP: "address group", SERVICE: "service object"}
# What the vendors call a group of addresses, where it is not "address group".
_GROUP_WORDS = {
    "cisco-asa": "network object group",
    "mikrotik": "address list",
    "opnsense": "alias",
    "pfsense": "alias",
}


def guide_objects(
    policy: Policy,
    *,
    datacenter: str,
    monitoring: str,
    address_kinds: tuple[str, ...],
    services: bool = True,
) -> list[OwnObject]:
    """The objects most renderers create, named the ``sites.vendors.names`` way (item key: the
    name without ``obm-``): the backup hosts, the ``datacenter`` and ``monitoring`` groups (with
    their member objects) that a customer object of one of ``address_kinds`` may stand for, and
    one service per protocol and port."""

    def key(name: str) -> str:
        return name.removeprefix("obm-")

    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    hosts = outbound[0].required_hosts
    host = hosts_object_name(hosts)
    own = [OwnObject(key(host), host, address_kinds, networks=hosts.networks())]
    groups = [
        (datacenter, outbound[0].datacenter, network_names(datacenter, outbound[0].datacenter))
    ]
    if inbound and inbound[0].allowed_sources:
        sources = inbound[0].allowed_sources
        groups.append((monitoring, sources, source_object_names(monitoring, inbound[0])))
    for group, networks, names in groups:
        members = tuple(key(n) for n in names)
        own.append(OwnObject(key(group), group, address_kinds, tuple(networks), members=members))
    if services:
        ports: dict[str, tuple[str, int]] = {}
        for rule in policy.of_kind(
            RuleKind.ALLOW_OUTBOUND,
            RuleKind.SOURCE_NAT,
            RuleKind.DESTINATION_NAT,
            RuleKind.ALLOW_INBOUND,
        ):
            if rule.protocol is not None and rule.port is not None:
                ports.setdefault(port_object_name(rule), (rule.protocol, rule.port))
        own += [
            OwnObject(key(name), name, (SERVICE,), services=frozenset({(protocol, port, port)}))
            for name, (protocol, port) in ports.items()
        ]
    return own


@dataclass(frozen=True)
class Reuse:
    """One of our objects replaced by the customer's ``theirs``."""

    ours: OwnObject
    theirs: NamedObject

    def sentence(self, vendor: str = "") -> str:
        what = _KIND_WORDS[self.theirs.kind]
        if self.theirs.kind == GROUP:
            what = _GROUP_WORDS.get(vendor, what)
        where = f" (line {self.theirs.line})" if self.theirs.line else ""
        return (
            f"Uses your existing {what} {self.theirs.name}{where} instead of creating "
            f"{self.ours.name}: it holds exactly the same {_value_words(self.ours)}."
        )


@dataclass(frozen=True)
class Adjustments:
    """What a configuration check found to build on: objects to reuse, denies to place above."""

    reuses: tuple[Reuse, ...] = ()
    shadowing: tuple[ShadowingRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reuses or self.shadowing)


def find_adjustments(
    renderer: Renderer,
    own: Sequence[OwnObject],
    existing: ExistingObjects,
    shadowing: Sequence[ShadowingRule] = (),
) -> Adjustments:
    """The reuses of ``own`` objects (as ``renderer.reusable_objects`` lists them) that the
    customer's ``existing`` objects allow, and the denies to place above."""
    # An object named like ours (``obm-…``, ``OBM_…``) is ours from an earlier rollout, not
    # the customer's: reusing it would hand our object to the customer and plans would lose it.
    existing = ExistingObjects(tuple(o for o in existing.objects if not _OUR_NAMES.match(o.name)))
    reuses: list[Reuse] = []
    skipped: set[str] = set()
    for ours in own:
        if ours.key in skipped:
            continue
        if ours.services:
            theirs = existing.with_services(ours.services)
        else:
            theirs = existing.with_addresses(ours.networks, ours.kinds)
        if theirs is None or theirs.kind not in ours.kinds:
            continue
        if not renderer.can_reference(theirs.name):
            continue
        reuses.append(Reuse(ours, theirs))
        skipped.update(ours.members)
    # A member reused on its own, whose group is reused too, is not needed at all.
    reuses = [r for r in reuses if r.ours.key not in skipped]
    return Adjustments(tuple(reuses), tuple(shadowing))


def adjusted_items(
    renderer: Renderer, items: Sequence[ManagedItem], adjustments: Adjustments
) -> tuple[ManagedItem, ...]:
    """The managed items with the reuses applied: a reused object's item becomes the customer's
    (``customer_object``, no configuration: plans leave it alone), the members only it needed
    are gone, and every other item names the customer's object instead of ours."""
    reused = {r.ours.key: r for r in adjustments.reuses}
    unneeded = {key for r in adjustments.reuses for key in r.ours.members}
    result = []
    for item in items:
        if item.key in unneeded:
            continue
        if item.key in reused:
            theirs = reused[item.key].theirs
            result.append(
                dataclasses.replace(
                    item,
                    title=f"{item.title}: your existing {theirs.name} (line {theirs.line})",
                    create="",
                    update="",
                    remove="",
                    uses=(),
                    customer_object=theirs.name,
                )
            )
            continue
        result.append(
            dataclasses.replace(
                item,
                create=_renamed(renderer, item.create, adjustments),
                update=_renamed(renderer, item.update, adjustments),
                remove=_renamed(renderer, item.remove, adjustments),
                uses=tuple(u for u in item.uses if u not in unneeded),
            )
        )
    return tuple(result)


def adjusted_rendered(
    renderer: Renderer,
    rendered: Rendered,
    items: Sequence[ManagedItem],
    own: Sequence[OwnObject],
    adjustments: Adjustments,
) -> Rendered:
    """The complete instructions with the adjustments: objects reused are not created and are
    named instead of ours, and each step says so; the step adding an accept that an existing
    deny would shadow places it above that deny and says why. ``rendered`` unchanged when there
    is nothing to adjust."""
    if not adjustments:
        return rendered
    by_key = {item.key: item for item in items}
    own_by_key = {o.key: o for o in own}
    dropped: list[str] = []
    for reuse in adjustments.reuses:
        for key in (reuse.ours.key, *reuse.ours.members):
            own_object = own_by_key.get(key)
            text = (own_object.text if own_object else "") or (
                by_key[key].create if key in by_key else ""
            )
            if text:
                dropped.append(text)
    steps = []
    for step in rendered.steps:
        config, notes = step.config, []
        for text in dropped:
            config = config.replace(text, "")
        config = renderer.tidy_config(_renamed(renderer, config, adjustments))
        if config != step.config:
            notes += [r.sentence(renderer.slug) for r in adjustments.reuses if _mentions(step, r)]
            if not config.strip():
                notes.append("Nothing to create here: your existing objects are used.")
        adjusted = dataclasses.replace(
            step,
            config=config,
            verify=_renamed(renderer, step.verify, adjustments),
            reason=step.reason + "".join(f" {note}" for note in notes),
        )
        placed: set[int] = set()  # one deny may refuse several flows of the same step
        for deny in adjustments.shadowing:
            if deny.line not in placed and _adds_accept_for(adjusted, deny):
                adjusted = renderer.place_above(adjusted, deny)
                placed.add(deny.line)
        steps.append(adjusted)
    return dataclasses.replace(rendered, steps=tuple(steps))


def _mentions(step: Step, reuse: Reuse) -> bool:
    """The step created or named the object the reuse replaces."""
    ours = reuse.ours.name
    return bool(whole_name(ours).search(step.config)) or (reuse.ours.text or "\0") in step.config


def _adds_accept_for(step: Step, deny: ShadowingRule) -> bool:
    """The step that adds the accept for the denied flow: a change step allowing traffic whose
    guide rules include the flow's first one (backup outbound, or remote monitoring)."""
    return (
        step.kind is StepKind.CHANGE
        and step.title.startswith("Allow")
        and bool(deny.guide_rules)
        and deny.guide_rules[0] in {int(g) for g in step.guide_rules}
    )


def _renamed(renderer: Renderer, text: str, adjustments: Adjustments) -> str:
    for reuse in adjustments.reuses:
        if reuse.ours.name in text:
            text = renderer.rename_object(text, reuse.ours.name, reuse.theirs)
    return text


def _value_words(ours: OwnObject) -> str:
    if ours.services:
        return (
            "service ("
            + ", ".join(
                f"{p.upper()} {low}" if low == high else f"{p.upper()} {low}-{high}"
                for p, low, high in sorted(ours.services)
            )
            + ")"
        )
    networks = ", ".join(str(n) for n in ours.networks)
    return f"address{'es' if len(ours.networks) > 1 else ''} ({networks})"


@dataclass(frozen=True)
class Adjusted:
    """The instructions and managed items for one vendor, adjusted to a checked configuration."""

    rendered: Rendered
    items: tuple[ManagedItem, ...]
    adjustments: Adjustments


def adjust_to(
    renderer: Renderer,
    policy: Policy,
    site: SiteDescription,
    profile: ProfileSpec,
    existing: ExistingObjects,
    shadowing: Sequence[ShadowingRule] = (),
) -> Adjusted:
    """``renderer``'s instructions for the site, reusing the customer's ``existing`` objects and
    placed above the ``shadowing`` denies (``Adjusted.adjustments`` empty: exactly the
    unadjusted instructions)."""
    rendered = renderer.render(policy, site, profile)
    try:
        items: tuple[ManagedItem, ...] = renderer.managed_items(policy, site, profile)
    except PlansUnavailable:
        items = ()
    own = renderer.reusable_objects(policy, site, profile)
    adjustments = find_adjustments(renderer, own, existing, shadowing)
    placed: tuple[ManagedItem, ...] = ()
    if items:  # a renderer without markers has no items to place either
        placed = tuple(
            item
            for deny in _placed_denies(rendered, adjustments)
            for item in renderer.placed_items(policy, site, profile, deny)
        )
    return Adjusted(
        adjusted_rendered(renderer, rendered, items, own, adjustments),
        adjusted_items(renderer, items, adjustments) + placed,
        adjustments,
    )


def _placed_denies(rendered: Rendered, adjustments: Adjustments) -> list[ShadowingRule]:
    """The denies ``adjusted_rendered`` places a step above, each once (as it does)."""
    placed: dict[int, ShadowingRule] = {}
    for deny in adjustments.shadowing:
        if deny.line not in placed and any(_adds_accept_for(s, deny) for s in rendered.steps):
            placed[deny.line] = deny
    return list(placed.values())
