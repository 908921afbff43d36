"""The registry of vendor renderers.

``RENDERERS`` maps a slug to its renderer. ``vendor_choices()`` lists those a site's firewall can
be (what a site's ``vendor`` may be); ``renderers_for_site`` gives the instruction sets a site
needs: its firewall's, plus the Windows host's when the backup host runs Windows and the firewall
renderer does not cover host rules itself.
"""

from __future__ import annotations

from sites.description import SiteDescription
from sites.vendors.base import Renderer
from sites.vendors.checkpoint import CheckPointRenderer
from sites.vendors.cisco_asa import CiscoAsaRenderer
from sites.vendors.cisco_ios import CiscoIosRenderer
from sites.vendors.edgeos import EdgeosRenderer
from sites.vendors.fortigate import FortigateRenderer
from sites.vendors.generic import GenericRenderer
from sites.vendors.iptables import IptablesRenderer
from sites.vendors.juniper_srx import JuniperSrxRenderer
from sites.vendors.meraki import MerakiRenderer
from sites.vendors.mikrotik import MikrotikRenderer
from sites.vendors.nftables import NftablesRenderer
from sites.vendors.opnsense import OpnsenseRenderer
from sites.vendors.paloalto import PaloAltoRenderer
from sites.vendors.pf import PfRenderer
from sites.vendors.pfsense import PfsenseRenderer
from sites.vendors.sonicwall import SonicwallRenderer
from sites.vendors.sophos import SophosRenderer
from sites.vendors.watchguard import WatchguardRenderer
from sites.vendors.windows import WindowsRenderer

RENDERERS: dict[str, Renderer] = {
    r.slug: r
    for r in (
        GenericRenderer(),
        IptablesRenderer(),
        NftablesRenderer(),
        WindowsRenderer(),
        SonicwallRenderer(),
        MerakiRenderer(),
        SophosRenderer(),
        WatchguardRenderer(),
        PfsenseRenderer(),
        OpnsenseRenderer(),
        PfRenderer(),
        CiscoAsaRenderer(),
        CiscoIosRenderer(),
        MikrotikRenderer(),
        EdgeosRenderer(),
        FortigateRenderer(),
        PaloAltoRenderer(),
        JuniperSrxRenderer(),
        CheckPointRenderer(),
    )
}


def get_renderer(slug: str) -> Renderer:
    """The renderer for ``slug``; ``KeyError`` naming the known slugs if there is none."""
    try:
        return RENDERERS[slug]
    except KeyError:
        raise KeyError(f"No renderer {slug!r}; known: {', '.join(sorted(RENDERERS))}") from None


def vendor_display_name(slug: str) -> str:
    """A renderer slug as people know the firewall: ``cisco-asa`` → ``Cisco ASA``."""
    renderer = RENDERERS.get(slug)
    return renderer.name if renderer else (slug or "—")


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
