"""The preview of the rules a site will get: the review step, and the side panel while answering.

Pure, and fast (the renderers are): it runs on every answer typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sites.description import ProfileSpec, SiteDescription
from sites.diagram import render_diagram
from sites.instructions import policy_as_dicts, render_site
from sites.policy import GuideRule, Rule, RuleKind
from sites.vendors import vendor_display_name
from sites.wizard.answers import Answers
from sites.wizard.steps import WizardStep, slot_label, slot_of, step_of

_KIND_LABELS = {
    RuleKind.ALLOW_OUTBOUND: "Allow out",
    RuleKind.SOURCE_NAT: "Translate (source NAT)",
    RuleKind.DESTINATION_NAT: "Forward in (port-forward)",
    RuleKind.ALLOW_INBOUND: "Allow in",
    RuleKind.STATIC_ROUTE: "Persistent static route",
    RuleKind.HOST_FIREWALL_OUTBOUND: "Windows firewall: allow out",
    RuleKind.HOST_FIREWALL_INBOUND: "Windows firewall: allow in",
}


@dataclass(frozen=True)
class RuleRow:
    """One derived rule as the review shows it."""

    kind: str
    what: str
    on_host: bool
    traffic: str
    source: str
    destination: str
    guide_label: str
    guide_title: str
    detail: str


def _networks(networks) -> str:
    return ", ".join(str(n) for n in networks)


def rule_row(rule: Rule) -> RuleRow:
    outside = (
        f"the firewall's public address {rule.public_address}"
        if rule.public_address
        else ("the firewall's outside interface")
    )
    sources = _networks(rule.allowed_sources) or "any address"
    source, destination = {
        RuleKind.ALLOW_OUTBOUND: (str(rule.hosts), f"datacenter {_networks(rule.datacenter)}"),
        RuleKind.SOURCE_NAT: (str(rule.hosts), "the firewall's outside address"),
        RuleKind.DESTINATION_NAT: (sources, f"{outside} → backup host {rule.hosts}"),
        RuleKind.ALLOW_INBOUND: (sources, f"backup host {rule.hosts}"),
        RuleKind.STATIC_ROUTE: (
            "the backup host",
            f"{rule.route_destination} via {rule.next_hop} ({rule.interface_name})",
        ),
        RuleKind.HOST_FIREWALL_OUTBOUND: (
            "the backup host",
            f"datacenter {_networks(rule.datacenter)}",
        ),
        RuleKind.HOST_FIREWALL_INBOUND: (sources, "the backup host"),
    }[rule.kind]
    return RuleRow(
        kind=str(rule.kind),
        what=_KIND_LABELS[rule.kind],
        on_host=rule.kind.on_host,
        traffic=str(rule.port_spec) if rule.port_spec else "—",
        source=source,
        destination=destination,
        guide_label=rule.reason.label,
        guide_title=rule.reason.rule.title,
        detail=rule.reason.detail,
    )


@dataclass(frozen=True)
class DocumentOutline:
    """The instructions one renderer will produce: for the firewall, or the Windows host."""

    name: str
    versions: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    rules: tuple[RuleRow, ...]
    warnings: tuple[str, ...]
    documents: tuple[DocumentOutline, ...]
    diagram: str
    guide_rules: tuple[GuideRule, ...] = field(default=())

    @property
    def in_brief(self) -> list[dict]:
        """The rules with the same action and path on one line (TCP 4403, UDP 4403 …), for the
        side panel."""
        lines: dict[tuple, dict] = {}
        for rule in self.rules:
            line = lines.setdefault(
                (rule.what, rule.source, rule.destination),
                {"rule": rule, "traffic": [], "guide_label": rule.guide_label},
            )
            if rule.traffic != "—":
                line["traffic"].append(rule.traffic)
        return list(lines.values())

    @property
    def firewall_rules(self) -> tuple[RuleRow, ...]:
        return tuple(r for r in self.rules if not r.on_host)

    @property
    def host_rules(self) -> tuple[RuleRow, ...]:
        return tuple(r for r in self.rules if r.on_host)


def preview(description: SiteDescription, profile: ProfileSpec) -> Preview:
    """What the site will get: the rules with their reasons, the warnings, an outline of each
    instruction document and the network diagram."""
    rendered = render_site(description, profile)
    policy = rendered.policy
    documents = tuple(
        DocumentOutline(
            name=renderer.name,
            versions=renderer.versions,
            steps=tuple(step.title for step in document.steps),
        )
        for renderer, document in zip(rendered.renderers, rendered.documents, strict=True)
    )
    used = sorted({g for rule in policy.rules for g in rule.reason.guide_rules})
    return Preview(
        rules=tuple(rule_row(rule) for rule in policy.rules),
        warnings=tuple(w.message for w in rendered.warnings),
        documents=documents,
        diagram=render_diagram(
            description.to_dict(),
            policy_as_dicts(policy),
            vendor_name=vendor_display_name(description.vendor),
        ),
        guide_rules=tuple(used),
    )


def panel(answers: Answers | None, step: WizardStep | None, profile: ProfileSpec | None) -> dict:
    """The preview panel's context: the rules, or which answers still stand in their way.

    ``profile`` is the service profile to derive with; ``None`` when there is nothing to preview.
    """
    result = None
    if answers is not None and answers.description is not None and profile is not None:
        result = preview(answers.description, profile)
    pending = []
    if result is None and answers is not None:
        pending = [
            (step_of(key), slot_label(slot_of(key)))
            for key in answers.errors
            if key not in answers.form.RECORD_FIELDS  # they do not change the rules
        ]
    groups = []
    if result is not None:
        vendor = vendor_display_name(answers.description.vendor)
        groups = [
            (f"On the firewall ({vendor})", result.firewall_rules),
            ("On the backup host", result.host_rules),
        ]
    return {
        "preview": result,
        "preview_groups": groups,
        "pending": sorted({(s.number, s.title, label) for s, label in pending}),
        "compact": step is not None,
    }
