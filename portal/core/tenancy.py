"""The base of every view below ``/o/<org_slug>/``.

The organisation is fetched through the scoped selector, so an organisation the person may not see
is a 404 whatever the view does next. Each view declares ``permission``, a function from
``portal.accounts.permissions``; the URL-walk test reads it to know what every role must get.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from portal.accounts import permissions
from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from portal.accounts.selectors import (
    default_organisation,
    organisation_for,
    visible_organisations,
)


class OrganisationMixin(LoginRequiredMixin):
    permission = None  # every view must name one: see the module docstring

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no permission")
        self.organisation = organisation_for(request.actor, kwargs["org_slug"])
        request.organisation = self.organisation  # for the 403 handler's audit event
        if not type(self).permission(request.actor, self.organisation):
            raise PermissionDenied(f"{type(self).permission.__name__} refused")
        self.load_objects(**kwargs)
        if request.session.get("active_org") != self.organisation.slug:
            request.session["active_org"] = self.organisation.slug  # the switcher's current choice
        return super().dispatch(request, *args, **kwargs)

    def load_objects(self, **kwargs) -> None:
        """Fetch the URL's other objects through scoped selectors (404 before any method runs)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        context.update(
            organisation=self.organisation,
            acting_as=actor.role_label_for(self.organisation),
            read_only=permissions.is_read_only(actor, self.organisation),
            can=_Capabilities(actor, self.organisation),
        )
        return context


class _Capabilities:
    """Lets templates ask the permission module: ``{% if can.edit_sites %}``."""

    def __init__(self, actor, organisation):
        self._actor = actor
        self._organisation = organisation

    def __getattr__(self, name):
        check = getattr(permissions, f"can_{name}", None)
        if check is None:
            raise AttributeError(name)
        return check(self._actor, self._organisation)


def acting_organisation(request, actor: Actor) -> Organisation | None:
    """The organisation a request acts for: the one it resolved, else the one in its URL if the
    person may see it, else their current one (the switcher's), else their first. A
    ``permission.denied`` event names it, wherever the refusal came from."""
    if resolved := getattr(request, "organisation", None):
        return resolved
    visible = visible_organisations(actor)
    match = getattr(request, "resolver_match", None)
    for slug in (match and match.kwargs.get("org_slug"), request.session.get("active_org")):
        if slug and (found := visible.filter(slug=slug).first()):
            return found
    return default_organisation(actor)
