"""``{% sso_providers as providers %}``: the configured identity providers, for the login page's
"Sign in with …" buttons (none when single sign-on is not configured)."""

from django import template

from portal.sso.providers import configured_providers

register = template.Library()


@register.simple_tag
def sso_providers():
    return list(configured_providers().values())
