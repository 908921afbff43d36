"""Small display filters used across templates."""
from django import template

from sites.selectors import proof_flag as _proof_flag
from sites.vendors import vendor_display_name

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    """``in_progress`` → ``In progress``: the stored state as people read it."""
    return str(value).replace("_", " ").capitalize()


@register.filter
def fields_named(form, names: str) -> list:
    """The bound fields of ``form`` named in ``names`` (space-separated), in that order."""
    return [form[name] for name in names.split()]


@register.filter
def vendor_name(slug: str) -> str:
    return vendor_display_name(slug)


PROOF_LABELS = {
    "failing": "Probe failed",
    "stale": "Proof stale",
    "unproven": "Not proven yet",
    "": "Proven",
}


@register.filter
def proof_flag(site) -> str:
    return _proof_flag(site)


@register.filter
def proof_label(flag: str) -> str:
    return PROOF_LABELS[flag]
