"""What a vendor renderer is and what it returns.

A renderer turns a :class:`~sites.policy.Policy` into numbered :class:`Step` objects for one kind
of firewall (or for the backup host): each step has a title, where to click (``gui_path``), the
configuration to paste, why (``reason``), and how to check it (``verify``). Renderers are pure:
no I/O, no ORM, no clock; the same inputs give an equal :class:`Rendered`.

Step kinds:

- ``change``: the customer changes something (``config`` holds what to apply).
- ``check``: the setting is usually already there (e.g. default hide NAT); confirm it.
- ``verify``: prove the path is open; ``probes`` says which portal probes complete it.

Bump a renderer's ``renderer_version`` whenever its output changes: instruction sets are
versioned by (site, profile, renderer version).

Also here, what every renderer may use: ``guide_rules_of``, ``monitoring_sources``,
``and_list`` and ``verification_steps`` (the closing verify steps). Object names, example
addresses and rules grouped by port are in ``names``, ``sample_addresses`` and ``port_groups``.
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, ClassVar

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, Policy, PolicyWarning, Rule, RuleKind, WarningCode
from sites.vendors.managed import ManagedItem, OwnObject
from sites.vendors.names import rename_name

if TYPE_CHECKING:
    from sites.analyzer.model import NamedObject, ShadowingRule


class PlansUnavailable(Exception):
    """The renderer cannot make change or removal plans (its output carries no markers)."""

    def __init__(self, vendor: str):
        super().__init__(
            f"Change and removal plans are not available for {vendor} yet: its instructions do "
            "not mark the rules they create."
        )
        self.vendor = vendor


class StepKind(StrEnum):
    CHANGE = "change"
    CHECK = "check"
    VERIFY = "verify"


@dataclass(frozen=True)
class Probe:
    """A portal probe that completes a verify step: ``direction`` is "outbound" (run on the
    backup host towards the portal) or "inbound" (the portal connects to the public address)."""

    direction: str
    protocol: str
    port: int
    # "open": the probe passing completes the step; "closed": the step proves a removal, so the
    # connection must now fail (a removal plan's closing check).
    expect: str = "open"

    def __str__(self) -> str:
        closed = " (must be closed)" if self.expect == "closed" else ""
        return f"{self.direction} {self.protocol}/{self.port}{closed}"


@dataclass(frozen=True, kw_only=True)
class Step:
    """One numbered instruction. ``config`` is empty when there is nothing to paste."""

    number: int = 0  # assigned by Renderer.render
    title: str
    gui_path: str
    config: str
    config_language: str  # "iptables-restore", "nft", "powershell", "text", …
    reason: str
    verify: str
    kind: StepKind = StepKind.CHANGE
    guide_rules: tuple[GuideRule, ...] = ()
    probes: tuple[Probe, ...] = ()
    # In a change or removal plan (``sites.plans``): "add", "change" or "remove"; empty in a
    # complete instruction set and for a plan's checks.
    action: str = ""


@dataclass(frozen=True)
class Rendered:
    """An instruction set for one vendor: ordered steps and the warnings to show above them."""

    vendor: str
    renderer_version: int
    steps: tuple[Step, ...]
    warnings: tuple[PolicyWarning, ...]


class Renderer(ABC):
    """Base of every vendor renderer; subclasses set the class attributes and ``build_steps``.

    - ``versions``: the firmware or software versions the output targets.
    - ``supports_ranges``: can one rule name an address range (else: a warning, and renderers
      use ``HostMatch.networks()``, the exact CIDR blocks).
    - ``hides_lan_by_default``: the vendor source-NATs the LAN out of the box, so transparency
      is a *check* step, not a change.
    - ``describes_firewall``: may be chosen as a site's firewall vendor.
    - ``renders_host_rules``: also renders rules applied on the backup host (routes, host
      firewall); otherwise another renderer (e.g. ``windows``) does, see ``renderers_for_site``.
    - ``default_interfaces``: (inside, outside) names used when the site leaves them blank;
      ``None`` if the output does not name interfaces.
    - ``markers_since``: the ``renderer_version`` from which the output carries markers
      (``sites.vendors.managed``); ``None`` while the renderer has no ``managed_items``, so
      change and removal plans are not available for it. A plan from a version older than this
      cannot name what to remove.
    - ``plan_gui_path``: where plan steps are done when an item names no place of its own;
      ``plan_language``: the ``config_language`` of plan steps.
    """

    slug: ClassVar[str]
    name: ClassVar[str]
    versions: ClassVar[str]
    renderer_version: ClassVar[int]
    supports_ranges: ClassVar[bool] = True
    hides_lan_by_default: ClassVar[bool] = False
    describes_firewall: ClassVar[bool] = True
    renders_host_rules: ClassVar[bool] = False
    default_interfaces: ClassVar[tuple[str, str] | None] = None
    markers_since: ClassVar[int | None] = None
    plan_gui_path: ClassVar[str] = "Command line"
    plan_language: ClassVar[str] = "text"

    def render(self, policy: Policy, site: SiteDescription, profile: ProfileSpec) -> Rendered:
        """The instruction set for this site: numbered steps and all warnings."""
        steps = self.build_steps(policy, site, profile)
        for number, step in enumerate(steps, start=1):
            # build_steps makes new steps each call, so each is numbered in place (a copy per
            # step through dataclasses.replace cost a third of a render).
            object.__setattr__(step, "number", number)
        numbered = tuple(steps)
        warnings = policy.warnings + self.own_warnings(site)
        return Rendered(self.slug, self.renderer_version, numbered, warnings)

    @abstractmethod
    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        """The steps in order, each a new ``Step`` (``render`` numbers them in place)."""

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        """Every object and rule the instructions create, each with its marker and the
        configuration that creates and removes it (see ``sites.vendors.managed``); what change and
        removal plans are made of. Renderers with ``markers_since`` set implement it."""
        raise PlansUnavailable(self.name)

    def plan_section(self, section: str, body: str) -> str:
        """The text of one section of a plan step (``ManagedItem.section``): the body as is; a
        vendor whose files are divided (iptables' tables) wraps it."""
        return body

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        """How to check a plan step: by default, search the configuration for the markers."""
        markers = "\n".join(item.marker for item in items)
        if present:
            return f"Search the configuration for each of these; each must be there:\n{markers}"
        return f"Search the configuration for each of these; none may be left:\n{markers}"

    def plan_file(self, steps: Iterable[Step]) -> str:
        """A plan as one text the vendor loads (``--format config``): every step's configuration
        in order; a vendor whose removals need a script (nftables) overrides it."""
        return "\n".join(step.config.rstrip("\n") + "\n" for step in steps if step.config.strip())

    # -- Adjusting to a checked configuration (``sites.vendors.reuse``) -------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The objects the instructions create that a customer's object of the same value may
        stand for; none by default (the vendor has no named objects, or reuse is not natural)."""
        return ()

    def can_reference(self, name: str) -> bool:
        """Whether the instructions can name a customer's object called ``name`` as is."""
        return bool(re.fullmatch(r"[\w.-]+", name))

    def rename_object(self, text: str, ours: str, theirs: NamedObject) -> str:
        """``text`` naming the customer's object ``theirs`` wherever it named ours."""
        return rename_name(text, ours, theirs.name)

    def tidy_config(self, config: str) -> str:
        """A step's configuration after objects were left out of it (e.g. an empty block)."""
        return config

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """``step`` (which adds the accept for a flow ``deny`` refuses) placing its rule above
        that deny and saying why. By default: the reason says so; vendors whose rules land
        elsewhere give their own syntax."""
        return with_reason(
            step,
            f"Your rule at line {deny.line} `{deny.text}` refuses this connection today and "
            "would otherwise block it first: put this rule above it.",
        )

    def placed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec, deny: ShadowingRule
    ) -> tuple[ManagedItem, ...]:
        """The rules ``place_above`` adds *besides* the managed items (copies of ours in the
        chain that holds ``deny``), as managed items of their own, so plans change and remove
        them too; none by default (the vendor moves or places its own rules)."""
        return ()

    def interfaces(self, site: SiteDescription) -> tuple[str, str]:
        """(inside, outside) interface names: the site's, or this vendor's defaults."""
        inside, outside = self.default_interfaces or ("", "")
        return site.inside_interface or inside, site.outside_interface or outside

    def own_warnings(self, site: SiteDescription) -> tuple[PolicyWarning, ...]:
        """Warnings that depend on this renderer's capabilities."""
        warnings = []
        if self.describes_firewall and site.host_addressing == "range" and not self.supports_ranges:
            warnings.append(
                PolicyWarning(
                    WarningCode.RANGE_UNSUPPORTED,
                    f"{self.name} cannot name an address range in one rule; the instructions list "
                    "the range as the smallest set of networks that covers exactly those addresses.",
                    field="host_addressing",
                )
            )
        if self.default_interfaces and not (site.inside_interface and site.outside_interface):
            inside, outside = self.interfaces(site)
            warnings.append(
                PolicyWarning(
                    WarningCode.INTERFACE_NAMES_ASSUMED,
                    f"The instructions assume the inside interface is {inside} and the outside "
                    f"interface is {outside}; enter your firewall's interface names to get exact "
                    "instructions.",
                    field="inside_interface" if not site.inside_interface else "outside_interface",
                )
            )
        return tuple(warnings)


def with_reason(step: Step, sentence: str) -> Step:
    """``step`` with ``sentence`` added to its reason."""
    return dataclasses.replace(step, reason=f"{step.reason} {sentence}")


def guide_rules_of(rules: Iterable[Rule]) -> tuple[GuideRule, ...]:
    """Every guide rule behind these rules, in guide order."""
    return tuple(sorted({g for r in rules for g in r.reason.guide_rules}))


def monitoring_sources(policy: Policy) -> tuple[IPv4Network, ...]:
    """The addresses the monitoring GUI connects from (empty: any address may connect)."""
    inbound = policy.of_kind(RuleKind.DESTINATION_NAT, RuleKind.ALLOW_INBOUND)
    return inbound[0].allowed_sources if inbound else ()


def _responder_words(policy: Policy) -> str:
    """Where the outbound probe connects, for its step: "to the portal's probe responder …",
    and why the rules let it through where they do (a lab's loopback responder is not)."""
    responder = policy.probe_responder
    if responder is None:
        return ""
    allowed = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    if not any(responder in network for rule in allowed for network in rule.datacenter):
        return f"to the portal's probe responder {responder} "
    return (
        f"to the portal's probe responder {responder}, an address inside the datacenter "
        "networks the rules allow, "
    )


def _check_source_words(policy: Policy, sources: tuple[IPv4Network, ...]) -> str:
    """How the portal's inbound checks get past a restriction to given sources ("" for any)."""
    check = policy.probe_check_source
    if not sources:
        return ""
    if check is None:
        return (
            " The rules only let the monitoring sources in: the portal's checks come from the "
            "portal's own address (ask your provider for it), so allow it too while you verify."
        )
    return (
        f" The rules let the portal's address {check} in beside the monitoring computers, so "
        "its checks get through."
    )


def and_list(items: list[str]) -> str:
    """E.g. "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verification_steps(
    policy: Policy,
    *,
    outbound_verify: str,
    inbound_verify: str,
    gui_path: str = "",
) -> list[Step]:
    """The closing verify steps every firewall renderer shares, with vendor-specific commands:
    one for the outbound backup ports, one for the forwarded ports if monitoring is on."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    steps = [
        Step(
            kind=StepKind.VERIFY,
            title="Prove the backup connection gets out",
            gui_path=gui_path,
            config="",
            config_language="text",
            reason=(
                "Run the portal's probe on the backup host: it connects out "
                + _responder_words(policy)
                + "on "
                + ", ".join(str(r.port_spec) for r in outbound)
                + " and the portal records the connection, which proves the rule and the address "
                "translation work."
            ),
            verify=outbound_verify,
            guide_rules=(GuideRule.BACKUP_OUTBOUND, GuideRule.TRANSPARENCY),
            probes=tuple(Probe("outbound", r.required_protocol, r.required_port) for r in outbound),
        )
    ]
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    if inbound:
        steps.append(
            Step(
                kind=StepKind.VERIFY,
                title="Prove the monitoring ports are reachable from outside",
                gui_path=gui_path,
                config="",
                config_language="text",
                reason=(
                    "The portal connects "
                    + (f"from {policy.probe_check_source} " if policy.probe_check_source else "")
                    + "to your public address "
                    + (f"{inbound[0].public_address} " if inbound[0].public_address else "")
                    + "on "
                    + ", ".join(str(r.port_spec) for r in inbound)
                    + " and the probe on the backup host answers, which proves the port-forwards "
                    "and the inbound rules work. Keep the probe running while the portal checks."
                    + _check_source_words(policy, inbound[0].allowed_sources)
                ),
                verify=inbound_verify,
                guide_rules=(GuideRule.REMOTE_MONITORING,),
                probes=tuple(
                    Probe("inbound", r.required_protocol, r.required_port) for r in inbound
                ),
            )
        )
    return steps
