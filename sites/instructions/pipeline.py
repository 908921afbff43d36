"""Site description → rules → rendered instructions, in one place.

The instruction service (through ``build_instructions``), the wizard's preview and the
``instructions`` command all render a site here, so they cannot drift apart. Pure: no ORM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sites.description import ProfileSpec, SiteDescription
from sites.instructions.documents import unique_warnings
from sites.policy import Policy, PolicyWarning, derive_rules
from sites.vendors import renderers_for_site
from sites.vendors.base import Rendered, Renderer


@dataclass(frozen=True)
class RenderedSite:
    """A site's rules (with the policy's warnings) and one rendered document per renderer."""

    policy: Policy
    renderers: tuple[Renderer, ...]
    documents: tuple[Rendered, ...]  # in the renderers' order

    @property
    def warnings(self) -> tuple[PolicyWarning, ...]:
        """Every document's warnings, each message once."""
        return unique_warnings(self.documents)


def render_site(
    description: SiteDescription,
    profile: ProfileSpec,
    renderers: Iterable[Renderer] | None = None,
) -> RenderedSite:
    """Derive the site's rules and render them with ``renderers`` (default: the ones the site
    needs, ``renderers_for_site``: its firewall, and its Windows host where needed)."""
    chosen = tuple(renderers_for_site(description) if renderers is None else renderers)
    policy = derive_rules(description, profile)
    return RenderedSite(
        policy=policy,
        renderers=chosen,
        documents=tuple(r.render(policy, description, profile) for r in chosen),
    )
