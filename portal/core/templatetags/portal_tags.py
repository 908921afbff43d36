"""Small display filters used across templates."""

from django import template

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    """``in_progress`` → ``In progress``: the stored state as people read it."""
    return str(value).replace("_", " ").capitalize()


@register.filter
def fields_named(form, names: str) -> list:
    """The bound fields of ``form`` named in ``names`` (space-separated), in that order."""
    return [form[name] for name in names.split()]
