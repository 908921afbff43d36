"""Small display filters used across templates."""
from django import template

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    """``in_progress`` → ``In progress``: the stored state as people read it."""
    return str(value).replace("_", " ").capitalize()
