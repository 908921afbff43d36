"""Which text the customer followed: the plain instructions, or those adjusted to a
configuration check (``sites.vendors.reuse``).

A version applied from adjusted instructions created other things than the plain ones: the
customer's own objects stand for some of ours (never created, so never to be removed), and
rules were copied above a deny in another chain (to be removed with ours). ``AppliedCheck``
keeps what the adjustments were made from, the check's named objects and shadowing denies in
one vendor, so a plan computes the items of that version exactly as the adjusted text created
them (``managed_items``). Stored as JSON on the instruction set (``as_dict``/``from_dict``), so
it does not depend on the check's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from sites.analyzer.model import ExistingObjects, NamedObject, ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import Policy
from sites.vendors.base import Renderer
from sites.vendors.managed import ManagedItem
from sites.vendors.reuse import adjust_to


@dataclass(frozen=True)
class AppliedCheck:
    """The adjustments a customer followed: those of configuration check ``check`` (its id) in
    ``vendor``, made from its ``existing`` objects and ``shadowing`` denies."""

    vendor: str
    check: int
    existing: ExistingObjects = ExistingObjects()
    shadowing: tuple[ShadowingRule, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "check": self.check,
            "existing": [
                {
                    "kind": o.kind,
                    "name": o.name,
                    "line": o.line,
                    "text": o.text,
                    "networks": sorted(str(n) for n in o.networks),
                    "services": sorted([list(s) for s in o.services]),
                }
                for o in self.existing.objects
            ],
            "shadowing": [
                {
                    "line": d.line,
                    "text": d.text,
                    "chain": d.chain,
                    "position": d.position,
                    "table": d.table,
                    "family": d.family,
                    "name": d.name,
                    "hook": d.hook,
                    "flow": d.flow,
                    "guide_rules": list(d.guide_rules),
                }
                for d in self.shadowing
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AppliedCheck | None:
        """The stored adjustments; None for an empty value (the plain text was followed)."""
        if not data:
            return None
        objects = tuple(
            NamedObject(
                kind=o["kind"],
                name=o["name"],
                line=o["line"],
                text=o["text"],
                networks=frozenset(IPv4Network(n) for n in o["networks"]),
                services=frozenset((p, int(low), int(high)) for p, low, high in o["services"]),
            )
            for o in data.get("existing", [])
        )
        shadowing = tuple(
            ShadowingRule(**{**d, "guide_rules": tuple(d["guide_rules"])})
            for d in data.get("shadowing", [])
        )
        return cls(data["vendor"], int(data["check"]), ExistingObjects(objects), shadowing)


def managed_items(
    renderer: Renderer,
    policy: Policy,
    site: SiteDescription,
    profile: ProfileSpec,
    applied: AppliedCheck | None,
) -> tuple[ManagedItem, ...]:
    """``renderer``'s items for the version, as the text the customer followed created them:
    adjusted to ``applied`` where it is this renderer's vendor, otherwise the plain ones.
    ``PlansUnavailable`` when the renderer has no markers."""
    items = renderer.managed_items(policy, site, profile)
    if applied is None or applied.vendor != renderer.slug:
        return items
    return adjust_to(renderer, policy, site, profile, applied.existing, applied.shadowing).items
