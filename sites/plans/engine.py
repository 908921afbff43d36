"""Change and removal plans: from what the customer applied to what is needed now.

A plan compares the items (``sites.vendors.managed``) one renderer creates for the old version
with those it creates for the new one, by key: an item only in the new version is **added**, one
only in the old is **removed**, one in both with other text is **changed** (in place where the
vendor can overwrite it, else removed and created again); unchanged items are left out.

The order never leaves the firewall more open than either version, and keeps backups running:

1. remove the inbound access (port forwards, inbound allows) that goes or changes;
2. create and update the objects and translations the new rules use;
3. add and update the outbound rules;
4. add and update the inbound access;
5. remove the outbound rules that are no longer needed;
6. remove the objects and translations no longer used (after every rule that used them).

Within a step, items are ordered so that what is used is created first and removed last. A plan
ends with the vendor's own checks for the new version, and a proof that the monitoring ports that
were closed are closed (``Probe.expect == "closed"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sites.description import ProfileSpec, SiteDescription
from sites.plans.applied import AppliedCheck, managed_items
from sites.plans.changes import describe_changes
from sites.policy import GuideRule, Policy, RuleKind, derive_rules
from sites.vendors import renderers_for_site
from sites.vendors.base import Probe, Rendered, Renderer, Step, StepKind
from sites.vendors.managed import Exposure, ManagedItem

ADD, CHANGE, REMOVE = "add", "change", "remove"


@dataclass(frozen=True)
class _Phase:
    """One step of a plan: the items of one exposure that one action touches. A removal phase
    has its own words for when nothing of its kind remains (decommission, monitoring removed):
    then nothing "new" is in place and nothing "changes"."""

    exposure: Exposure
    action: str
    title: str
    why: str
    title_all_gone: str = ""
    why_all_gone: str = ""
    # An addition whose reason speaks of what goes: the reason when nothing of its kind goes.
    why_nothing_goes: str | None = None


# The steps of a plan, in the order a plan takes them; see the module docstring.
_PHASES: tuple[_Phase, ...] = (
    _Phase(
        Exposure.INBOUND,
        REMOVE,
        "Remove the monitoring access that goes or changes",
        "First, so the firewall is never open to the old and the new access at once.",
        "Remove the monitoring access",
        "First: nothing outside can reach the backup host once it is gone.",
    ),
    _Phase(
        Exposure.SUPPORT,
        ADD,
        "Create the objects and translations the new rules use",
        "Before the rules that name them.",
    ),
    _Phase(
        Exposure.SUPPORT,
        CHANGE,
        "Update the objects and translations in place",
        "They keep their names, so the rules that use them follow.",
    ),
    _Phase(
        Exposure.OUTBOUND,
        ADD,
        "Add the new backup rules",
        "Before the old ones go, so the backups keep running.",
        why_nothing_goes="",
    ),
    _Phase(Exposure.OUTBOUND, CHANGE, "Update the backup rules in place", ""),
    _Phase(
        Exposure.INBOUND,
        ADD,
        "Add the new monitoring access",
        "After the old access is gone.",
        why_nothing_goes="",
    ),
    _Phase(Exposure.INBOUND, CHANGE, "Update the monitoring access in place", ""),
    _Phase(
        Exposure.OUTBOUND,
        REMOVE,
        "Remove the backup rules no longer needed",
        "The new rules are in place, so nothing the backups need goes with them.",
        "Remove the backup rules",
        "Backups from this site through this firewall stop once they are gone.",
    ),
    _Phase(
        Exposure.SUPPORT,
        REMOVE,
        "Remove the objects and translations no longer used",
        "Last: no rule uses them any more, so the firewall accepts their removal.",
        "Remove the objects and translations",
        "Last: no rule uses them any more, so the firewall accepts their removal.",
    ),
)


@dataclass(frozen=True)
class ItemChange:
    action: str  # ADD, CHANGE or REMOVE
    old: ManagedItem | None
    new: ManagedItem | None

    @property
    def item(self) -> ManagedItem:
        """The item as it is after the change (the old one for a removal)."""
        item = self.new or self.old
        assert item is not None
        return item


@dataclass(frozen=True)
class Plan:
    """One document per renderer (the same shape as complete instructions, so a rollout follows
    it unchanged), and the reasons: what changed between the versions."""

    documents: tuple[Rendered, ...]
    changes: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """Nothing to add, change or remove."""
        return not any(step.action for document in self.documents for step in document.steps)


def diff_items(old: Iterable[ManagedItem], new: Iterable[ManagedItem]) -> list[ItemChange]:
    """The changes from ``old`` to ``new`` by key (unchanged items left out): additions and
    changes in the new version's order, then removals in the old version's order. A changed item
    without in-place text becomes a removal of the old and an addition of the new.

    An item standing for the customer's own object (``customer_object``) is no part of either
    side: the customer's object is never created, changed or removed by a plan. Where one of ours
    was used before, ours is removed (after the rules that named it)."""
    before = {item.key: item for item in old if not item.customer_object}
    after = {item.key: item for item in new if not item.customer_object}
    changes = []
    for key, item in after.items():
        previous = before.get(key)
        if previous is None:
            changes.append(ItemChange(ADD, None, item))
        elif (previous.create, previous.exposure) != (item.create, item.exposure):
            # In place only when the update text can find the old item: by its marker, unless
            # the site was renamed, or without it (``renames_in_place``).
            same_marker = previous.marker == item.marker or item.renames_in_place
            if item.update and previous.exposure == item.exposure and same_marker:
                changes.append(ItemChange(CHANGE, previous, item))
            else:
                changes += [ItemChange(REMOVE, previous, None), ItemChange(ADD, None, item)]
    changes += [ItemChange(REMOVE, item, None) for key, item in before.items() if key not in after]
    return changes


def plan_items(
    renderer: Renderer,
    old_items: Sequence[ManagedItem],
    new_items: Sequence[ManagedItem],
    reasons: Sequence[str],
) -> list[Step]:
    """The change steps (without the closing checks) from ``old_items`` to ``new_items``."""
    changes = diff_items(old_items, new_items)
    remaining = {item.exposure for item in new_items}
    steps = []
    for phase in _PHASES:
        chosen = [
            c for c in changes if c.action == phase.action and c.item.exposure == phase.exposure
        ]
        if not chosen:
            continue
        title, why = phase.title, phase.why
        if phase.title_all_gone and phase.exposure not in remaining:
            title, why = phase.title_all_gone, phase.why_all_gone
        if phase.why_nothing_goes is not None and not any(
            c.action == REMOVE and c.item.exposure == phase.exposure for c in changes
        ):
            why = phase.why_nothing_goes
        steps.append(
            _step(renderer, _in_dependency_order(chosen), phase.action, title, why, reasons)
        )
    return steps


def plan_change(
    old: SiteDescription,
    old_profile: ProfileSpec,
    new: SiteDescription,
    new_profile: ProfileSpec,
    *,
    reasons: Sequence[str] = (),
    renderers: Sequence[Renderer] | None = None,
    applied: AppliedCheck | None = None,
) -> Plan:
    """The plan from the version the customer applied (``old``) to the one needed now.

    ``renderers``: the renderers to plan with, for both versions (default: each version's own,
    ``renderers_for_site``; a renderer only one version has gives a complete addition or
    removal). ``reasons`` default to ``describe_changes``. ``PlansUnavailable`` when a renderer
    has no markers.

    ``applied``: the configuration check whose adjusted instructions the customer followed for
    ``old``. Both versions are then adjusted to it (the firewall still holds the customer's
    objects and denies it found): the customer's objects are neither removed nor recreated as
    ours, and the copies above a deny are changed and kept with the rules they copy.
    """
    reasons = tuple(reasons) or describe_changes(old, old_profile, new, new_profile)
    old_policy, new_policy = derive_rules(old, old_profile), derive_rules(new, new_profile)
    old_renderers = tuple(renderers) if renderers is not None else renderers_for_site(old)
    new_renderers = tuple(renderers) if renderers is not None else renderers_for_site(new)
    documents = []
    for renderer in _union(new_renderers, old_renderers):
        has_old, has_new = renderer in old_renderers, renderer in new_renderers
        old_items = (
            managed_items(renderer, old_policy, old, old_profile, applied) if has_old else ()
        )
        new_items = (
            managed_items(renderer, new_policy, new, new_profile, applied) if has_new else ()
        )
        steps = plan_items(renderer, old_items, new_items, reasons)
        complete = renderer.render(new_policy, new, new_profile) if has_new else None
        if steps:
            if complete is not None:
                steps += [s for s in complete.steps if s.kind is StepKind.VERIFY]
            steps += _closure_checks(old_policy, new_policy if has_new else None, renderer)
        documents.append(_document(renderer, steps, complete))
    return Plan(documents=tuple(documents), changes=reasons)


def plan_removal(
    description: SiteDescription,
    profile: ProfileSpec,
    *,
    scope: str = "all",
    reasons: Sequence[str] = (),
    renderers: Sequence[Renderer] | None = None,
    applied: AppliedCheck | None = None,
) -> Plan:
    """Remove what the instructions created: ``scope="monitoring"`` only the monitoring access
    (the plan to the same site with monitoring off), ``"all"`` everything (decommission).
    ``applied``: the check whose adjusted instructions were followed (see ``plan_change``):
    the customer's objects stay, the copies above its deny go."""
    if scope == "monitoring":
        without = dataclasses.replace(description, monitoring_enabled=False, monitoring_sources=())
        return plan_change(
            description,
            profile,
            without,
            profile,
            reasons=tuple(reasons) or ("Remote monitoring is being removed.",),
            renderers=renderers,
            applied=applied,
        )
    if scope != "all":
        raise ValueError(f"scope: {scope!r} is not 'all' or 'monitoring'")
    reasons = tuple(reasons) or (
        "The site is being decommissioned: everything the instructions created is removed.",
    )
    policy = derive_rules(description, profile)
    documents = []
    for renderer in renderers if renderers is not None else renderers_for_site(description):
        items = managed_items(renderer, policy, description, profile, applied)
        steps = plan_items(renderer, items, (), reasons)
        steps += _closure_checks(policy, None, renderer)
        documents.append(_document(renderer, steps, None))
    return Plan(documents=tuple(documents), changes=reasons)


def _union(first: Sequence[Renderer], second: Sequence[Renderer]) -> list[Renderer]:
    chosen = list(first)
    chosen += [r for r in second if r not in chosen]
    return chosen


def _document(renderer: Renderer, steps: list[Step], complete: Rendered | None) -> Rendered:
    for number, step in enumerate(steps, start=1):
        object.__setattr__(step, "number", number)
    return Rendered(
        vendor=renderer.slug,
        renderer_version=renderer.renderer_version,
        steps=tuple(steps),
        warnings=complete.warnings if complete is not None else (),
    )


def _in_dependency_order(changes: list[ItemChange]) -> list[ItemChange]:
    """What is used first when creating, last when removing (a stable topological order)."""
    keys = {c.item.key for c in changes}
    ordered: list[ItemChange] = []
    placed: set[str] = set()
    pending = list(changes)
    while pending:
        ready = [
            c for c in pending if all(u in placed or u not in keys for u in c.item.uses)
        ] or pending[:1]  # a cycle cannot happen with well-formed items; never loop forever
        for change in ready:
            ordered.append(change)
            placed.add(change.item.key)
            pending.remove(change)
    removing = changes[0].action == REMOVE
    return ordered[::-1] if removing else ordered


def _step(
    renderer: Renderer,
    changes: list[ItemChange],
    action: str,
    title: str,
    why: str,
    reasons: Sequence[str],
) -> Step:
    sections: dict[str, list[str]] = {}
    for change in changes:
        item = change.item
        text = {ADD: item.create, CHANGE: item.update, REMOVE: item.remove}[action]
        sections.setdefault(item.section, []).append(text.rstrip("\n"))
    config = "".join(
        renderer.plan_section(section, "\n".join(texts) + "\n")
        for section, texts in sections.items()
    )
    titles = [change.item.title for change in changes]
    guide_rules = sorted({rule for c in changes for rule in c.item.guide_rules})
    gui_paths = list(dict.fromkeys(c.item.gui_path or renderer.plan_gui_path for c in changes))
    what = {ADD: "Adds", CHANGE: "Updates", REMOVE: "Removes"}[action] + ": " + "; ".join(titles)
    because = " ".join(reasons)
    return Step(
        title=title,
        gui_path=" · ".join(gui_paths),
        config=config,
        config_language=renderer.plan_language,
        reason=f"{what}. {why}".strip() + (f" What changed: {because}" if because else ""),
        verify=renderer.plan_verify([c.item for c in changes], present=action != REMOVE),
        guide_rules=tuple(GuideRule(rule) for rule in guide_rules),
        action=action,
    )


def _closure_checks(old: Policy, new: Policy | None, renderer: Renderer) -> list[Step]:
    """A check that proves the monitoring ports closed: those the old version forwarded and the
    new one does not (only the firewall's document: the portal checks from outside)."""
    if not renderer.describes_firewall:
        return []

    def forwarded(policy: Policy | None) -> list[tuple[str, int]]:
        if policy is None:
            return []
        return [
            (r.required_protocol, r.required_port) for r in policy.of_kind(RuleKind.ALLOW_INBOUND)
        ]

    still = set(forwarded(new))
    closed = [port for port in forwarded(old) if port not in still]
    if not closed:
        return []
    return [
        Step(
            kind=StepKind.VERIFY,
            title="Prove the monitoring ports are closed",
            gui_path="",
            config="",
            config_language="text",
            reason=(
                "The portal connects to your public address on "
                + ", ".join(f"{protocol.upper()} {port}" for protocol, port in closed)
                + ": with the forwards removed the connections must fail. Leave the probe on the "
                "backup host running while the portal checks, so a connection that still gets "
                "through is seen."
            ),
            verify="The portal records the ports as closed, with the time it proved it.",
            guide_rules=(GuideRule.REMOTE_MONITORING,),
            probes=tuple(Probe("inbound", protocol, port, "closed") for protocol, port in closed),
        )
    ]
