"""The registry of vendor renderers.

``RENDERERS`` maps a slug to its renderer. ``vendor_choices()`` lists those a site's firewall can
be (what a site's ``vendor`` may be); ``renderers_for_site`` gives the instruction sets a site
needs: its firewall's, plus the Windows host's when the backup host runs Windows and the firewall
renderer does not cover host rules itself.
"""

from __future__ import annotations

from sites.description import SiteDescription
from sites.vendors.base import Renderer
from sites.vendors.generic import GenericRenderer
from sites.vendors.iptables import IptablesRenderer
from sites.vendors.nftables import NftablesRenderer
from sites.vendors.windows import WindowsRenderer

RENDERERS: dict[str, Renderer] = {
    r.slug: r
    for r in (GenericRenderer(), IptablesRenderer(), NftablesRenderer(), WindowsRenderer())
}


def get_renderer(slug: str) -> Renderer:
    """The renderer for ``slug``; ``KeyError`` naming the known slugs if there is none."""
    try:
        return RENDERERS[slug]
    except KeyError:
        raise KeyError(f"No renderer {slug!r}; known: {', '.join(sorted(RENDERERS))}") from None


def vendor_choices() -> list[tuple[str, str]]:
    """(slug, name) of every renderer that can describe a site's firewall, sorted by name."""
    return sorted(
        ((r.slug, r.name) for r in RENDERERS.values() if r.describes_firewall),
        key=lambda choice: choice[1].lower(),
    )


def renderers_for_site(site: SiteDescription) -> tuple[Renderer, ...]:
    """The site's firewall renderer, then the Windows host renderer where it is needed."""
    firewall = get_renderer(site.vendor)
    if site.host_os == "windows" and not firewall.renders_host_rules:
        return (firewall, RENDERERS["windows"])
    return (firewall,)
