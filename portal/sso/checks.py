"""``manage.py check`` (and every start of the server) refuses a malformed ``OIDC_PROVIDERS``,
naming the field, instead of failing at someone's first sign-in."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from portal.sso.providers import configured_providers


@register()
def oidc_providers_are_well_formed(app_configs, **kwargs):
    try:
        configured_providers()
    except ImproperlyConfigured as problem:
        return [Error(str(problem), hint="See docs/people.md, Single sign-on.", id="sso.E001")]
    return []
