"""Display filters for sites: a vendor's name, and a site's proof flag with its label."""

from django import template

from sites.selectors import proof_flag as _proof_flag
from sites.vendors import vendor_display_name

register = template.Library()

PROOF_LABELS = {
    "failing": "Probe failed",
    "stale": "Proof stale",
    "unproven": "Not proven yet",
    "": "Proven",
}


@register.filter
def vendor_name(slug: str) -> str:
    return vendor_display_name(slug)


@register.filter
def proof_flag(site) -> str:
    return _proof_flag(site)


@register.filter
def proof_label(flag: str) -> str:
    return PROOF_LABELS[flag]
