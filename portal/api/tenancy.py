"""The base of every API view below /api/o/<org_slug>/: tenancy, permissions and error bodies.

API views are thin, like the pages: the organisation comes from the URL through the scoped
selector, the permission module decides, objects are fetched through scoped selectors, and writes
go through the services. Each view names its ``permission`` (to read) and ``write_permission`` (to
change; None where it changes nothing), as the page views do, for the URL-walk test.

A request is refused in this order: nobody authenticated → 401; an organisation the caller may not
see → 404; ``permission`` refuses → 403; an object of the URL that is not the organisation's → 404;
``write_permission`` refuses a write → 403. A ``ServiceError`` answers 400 naming each field.
"""

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from rest_framework import exceptions, generics
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from portal.accounts.permissions import Actor
from portal.accounts.selectors import organisation_for
from portal.api.errors import NON_FIELD_ERRORS, field_errors
from portal.api.parsers import JSONParser
from portal.api.query import check_list_parameters
from portal.api.schema import PortalAutoSchema
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.tenancy import acting_organisation

WRITE_METHODS = ("POST", "PUT", "PATCH")


class OrganisationPermission(BasePermission):
    """Asks the permission module, through the view's ``permission`` and ``write_permission``."""

    def has_permission(self, request, view) -> bool:
        view.resolve_tenancy(request)
        write_permission = type(view).write_permission
        if request.method in SAFE_METHODS or write_permission is None:
            return True
        if write_permission(view.actor, view.organisation):
            return True
        self.message = f"Not allowed to change this: {write_permission.__name__} refused."
        return False


class OrganisationAPIView(generics.GenericAPIView):
    """Base of every API view below /api/o/<org_slug>/ (see the module docstring)."""

    permission = None  # a function of portal.accounts.permissions; every view names one
    write_permission = None
    anonymous_status = 401  # what a request without credentials gets (a page redirects: 302)
    write_serializer_class = None  # the body of a write, where it differs from what is read
    permission_classes = [IsAuthenticated, OrganisationPermission]
    # Bodies are JSON, as the site file is (the browsable API sends it as it is typed).
    parser_classes = [JSONParser]
    schema = PortalAutoSchema()
    filter_backends = []  # lists with filters name theirs

    def resolve_tenancy(self, request) -> None:
        """The caller, the organisation and the URL's objects, or 404/403. Once per request: the
        browsable API and OPTIONS check permissions again, per method."""
        if getattr(self, "tenancy_resolved", False):
            return
        if type(self).permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no permission")
        self.actor = Actor.for_user(request.user)
        try:
            self.organisation = organisation_for(self.actor, self.kwargs["org_slug"])
        except Http404:
            raise exceptions.NotFound("No such organisation.") from None
        if not type(self).permission(self.actor, self.organisation):
            name = type(self).permission.__name__
            raise exceptions.PermissionDenied(f"Not allowed: {name} refused.")
        try:
            self.load_objects(**self.kwargs)
        except Http404:
            raise exceptions.NotFound("Not found in this organisation.") from None
        self.tenancy_resolved = True

    def load_objects(self, **kwargs) -> None:
        """Fetch the URL's other objects through scoped selectors (404: not the organisation's)."""

    def filter_queryset(self, queryset):
        """A list's query parameters are checked before any filter or page reads them."""
        check_list_parameters(self, self.request.query_params)
        return super().filter_queryset(queryset)

    def get_object(self):
        """The URL's object, fetched by ``load_objects`` (DRF's OPTIONS and browsable API ask)."""
        return None

    def get_serializer_class(self):
        # The browsable API and OPTIONS describe a write by the serializer of its body.
        if self.write_serializer_class is not None and self.request.method in WRITE_METHODS:
            return self.write_serializer_class
        return super().get_serializer_class()

    def handle_exception(self, exc):
        if isinstance(exc, ServiceError):
            exc = exceptions.ValidationError(field_errors(exc.errors))
        elif isinstance(exc, exceptions.ParseError):
            # Every 400 has one shape: fields with their messages.
            exc = exceptions.ValidationError({NON_FIELD_ERRORS: [str(exc.detail)]})
        elif isinstance(exc, exceptions.PermissionDenied) and self.request.user.is_authenticated:
            actor = getattr(self, "actor", None) or Actor.for_user(self.request.user)
            record_event(
                action="permission.denied",
                organisation=getattr(self, "organisation", None)
                or acting_organisation(self.request._request, actor),
                after={"path": self.request.path[:300], "method": self.request.method},
            )
        return super().handle_exception(exc)

    @property
    def is_schema_generation(self) -> bool:
        return getattr(self, "swagger_fake_view", False)
