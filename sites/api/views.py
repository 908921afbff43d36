"""The sites REST API, below /api/o/<org_slug>/sites/: sites, their instruction sets, rollout
steps and probe runs.

Every view is an ``OrganisationAPIView`` (portal.api.tenancy: who may see and change what, in
which order a request is refused); writes go through the sites services.
"""

from django.db.models import F
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from portal.accounts import permissions
from portal.api.tenancy import OrganisationAPIView
from sites.api import serializers as api
from sites.api.filtersets import SiteFilterSet
from sites.api.pagination import SitePagination
from sites.instructions import step_as_dict
from sites.models import InstructionSet, ProbeRun, RolloutStep, Site
from sites.models.site import Reverify
from sites.selectors import (
    content_of,
    instruction_history,
    instruction_set_for,
    probe_run_for,
    probe_runs_of,
    rollout_step_for,
    rollout_steps,
    site_for,
    sites_for,
)
from sites.services.probes import start_probe_run
from sites.services.rollouts import mark_step
from sites.services.sites import create_site, update_site


class SiteObjectMixin:
    """A view of one site of the organisation in the URL (another organisation's site: 404)."""

    def load_objects(self, **kwargs) -> None:
        self.site = site_for(self.actor, self.organisation, kwargs["site_pk"])

    def get_object(self):
        return self.site


def _site_response(view, site: Site, status_code=status.HTTP_200_OK) -> Response:
    """The site as a read gives it (with its rollout state and proof), after a write."""
    fresh = site_for(view.actor, view.organisation, site.pk)
    return Response(api.SiteSerializer(fresh).data, status=status_code)


# --- Sites -------------------------------------------------------------------------------------


@extend_schema(tags=["sites"])
@extend_schema_view(
    get=extend_schema(
        summary="List sites",
        description="The organisation's sites (a reseller's: its clients'; the provider's: all).",
    ),
    post=extend_schema(
        summary="Create a site",
        description="From a site file (docs/site-file.md) and `reverify`. Its instructions follow "
        "in the background. Every bad field is named at once; nothing is saved.",
        request=api.SiteWriteSerializer,
        responses={201: api.SiteSerializer},
    ),
)
class SiteListView(mixins.ListModelMixin, OrganisationAPIView):
    """The organisation's sites; a new site from its site file."""

    permission = permissions.can_view_organisation
    write_permission = permissions.can_edit_sites
    serializer_class = api.SiteSerializer
    write_serializer_class = api.SiteWriteSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SiteFilterSet
    pagination_class = SitePagination

    def get_queryset(self):
        if self.is_schema_generation:
            return Site.objects.none()
        # The version number only, not the instruction set's large JSON columns.
        return sites_for(self.actor, self.organisation).annotate(
            current_version=F("current_instruction_set__version")
        )

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        body = api.SiteWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reverify = body.validated_data["reverify"]
        site = create_site(
            organisation=self.organisation,
            data=body.validated_data["description"],
            reverify=Reverify.WEEKLY if reverify is None else reverify,
        )
        return _site_response(self, site, status.HTTP_201_CREATED)


@extend_schema(tags=["sites"])
@extend_schema_view(
    get=extend_schema(
        summary="Read a site", description="Its description, rollout state and proof."
    ),
    put=extend_schema(
        summary="Replace a site's description",
        description="The whole site file, and optionally `reverify`. New instructions follow when "
        "the description changed.",
        request=api.SiteWriteSerializer,
        responses=api.SiteSerializer,
    ),
    patch=extend_schema(
        summary="Change some fields of a site's description",
        description="The fields given replace the current ones; the result is validated as a "
        "whole.",
        request=api.SiteWriteSerializer,
        responses=api.SiteSerializer,
    ),
)
class SiteDetailView(SiteObjectMixin, OrganisationAPIView):
    """One site: its description, rollout state and proof."""

    permission = permissions.can_view_organisation
    write_permission = permissions.can_edit_sites
    serializer_class = api.SiteSerializer
    write_serializer_class = api.SiteWriteSerializer
    http_method_names = ["get", "put", "patch", "head", "options"]

    def get(self, request, *args, **kwargs):
        return Response(api.SiteSerializer(self.site).data)

    def put(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    def patch(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        body = api.SiteWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        description = body.validated_data["description"]
        if partial:
            description = {**self.site.description, **description}
        reverify = body.validated_data["reverify"]
        site = update_site(site=self.site, data=description, reverify=reverify)
        return _site_response(self, site)


# --- Instruction sets --------------------------------------------------------------------------


@extend_schema(tags=["instruction sets"])
@extend_schema_view(
    get=extend_schema(summary="List a site's instruction sets", description="Newest first.")
)
class InstructionSetListView(SiteObjectMixin, mixins.ListModelMixin, OrganisationAPIView):
    """Every version of a site's instructions, without their documents."""

    permission = permissions.can_view_organisation
    serializer_class = api.InstructionSetSerializer

    def get_queryset(self):
        if self.is_schema_generation:
            return InstructionSet.objects.none()
        return instruction_history(self.site)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "site": getattr(self, "site", None)}

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["instruction sets"])
@extend_schema_view(
    get=extend_schema(
        summary="Read one version of a site's instructions",
        description="With the rules derived and the documents: numbered steps per vendor.",
    )
)
class InstructionSetDetailView(SiteObjectMixin, OrganisationAPIView):
    """One version of a site's instructions, by its version number."""

    permission = permissions.can_view_organisation
    serializer_class = api.InstructionSetDetailSerializer

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.instruction_set = instruction_set_for(self.site, kwargs["version"])

    def get_object(self):
        return self.instruction_set

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "site": getattr(self, "site", None)}

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.instruction_set).data)


# --- Rollout steps -----------------------------------------------------------------------------


@extend_schema(tags=["rollout"])
@extend_schema_view(
    get=extend_schema(
        summary="List the steps of the current rollout",
        description="The current instruction set's steps in the order they are followed, each "
        "with its state and what to do. Empty while the site has no instructions.",
    )
)
class RolloutStepListView(SiteObjectMixin, mixins.ListModelMixin, OrganisationAPIView):
    """The steps of the site's current rollout."""

    permission = permissions.can_view_organisation
    serializer_class = api.RolloutStepSerializer

    def get_queryset(self):
        if self.is_schema_generation:
            return RolloutStep.objects.none()
        current = self.site.current_instruction_set
        if current is None or getattr(current, "rollout", None) is None:
            return []
        steps = []
        for step, content in rollout_steps(current):
            step.content = step_as_dict(content)
            steps.append(step)
        return steps

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["rollout"])
@extend_schema_view(
    get=extend_schema(summary="Read a rollout step", description="With what to do (its content)."),
    patch=extend_schema(
        summary="Mark a step done, failed, skipped or pending, with a note",
        description="Fields left out keep their value. A step of instructions replaced since is "
        "refused (400).",
        request=api.RolloutStepUpdateSerializer,
        responses=api.RolloutStepSerializer,
    ),
)
class RolloutStepDetailView(SiteObjectMixin, OrganisationAPIView):
    """One step of the site's rollouts; marking it goes through ``mark_step``."""

    permission = permissions.can_view_organisation
    write_permission = permissions.can_edit_sites
    serializer_class = api.RolloutStepSerializer
    write_serializer_class = api.RolloutStepUpdateSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.step = rollout_step_for(self.site, kwargs["step_pk"])

    def get_object(self):
        return self.step

    def get(self, request, *args, **kwargs):
        return Response(self._representation(self.step))

    def patch(self, request, *args, **kwargs):
        body = api.RolloutStepUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        step = mark_step(
            step=self.step,
            state=body.validated_data.get("state", self.step.state),
            note=body.validated_data.get("note", self.step.note),
            by=request.user,
        )
        return Response(self._representation(rollout_step_for(self.site, step.pk)))

    @staticmethod
    def _representation(step: RolloutStep) -> dict:
        content = content_of(step)
        step.content = step_as_dict(content) if content is not None else None
        return api.RolloutStepSerializer(step).data


# --- Probe runs --------------------------------------------------------------------------------


@extend_schema(tags=["probes"])
@extend_schema_view(
    get=extend_schema(summary="List a site's probe runs", description="Newest first."),
    post=extend_schema(
        summary="Start a probe run",
        description="Opens a run with its one-time token: an outbound run waits for the probe "
        "client on the backup host. Runs are rate-limited per site and per organisation.",
        request=api.ProbeRunCreateSerializer,
        responses={201: api.ProbeRunDetailSerializer},
    ),
)
class ProbeRunListView(SiteObjectMixin, mixins.ListModelMixin, OrganisationAPIView):
    """A site's probe runs; a new one through ``start_probe_run``."""

    permission = permissions.can_view_organisation
    write_permission = permissions.can_edit_sites
    serializer_class = api.ProbeRunSerializer
    write_serializer_class = api.ProbeRunCreateSerializer

    def get_queryset(self):
        if self.is_schema_generation:
            return ProbeRun.objects.none()
        return probe_runs_of(self.site)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_token_context(self)}

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        body = api.ProbeRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = start_probe_run(site=self.site, by=request.user, **body.validated_data)
        data = api.ProbeRunDetailSerializer(run, context=_token_context(self)).data
        return Response(data, status=status.HTTP_201_CREATED)


def _token_context(view: OrganisationAPIView) -> dict:
    """A live token proves steps done: shown only to those who may run probes."""
    return {"show_token": permissions.can_run_probes(view.actor, view.organisation)}


@extend_schema(tags=["probes"])
@extend_schema_view(
    get=extend_schema(summary="Read a probe run", description="With what the responder observed.")
)
class ProbeRunDetailView(SiteObjectMixin, OrganisationAPIView):
    """One probe run of the site, with its observations."""

    permission = permissions.can_view_organisation
    serializer_class = api.ProbeRunDetailSerializer

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.run = probe_run_for(self.site, kwargs["run_pk"])

    def get_object(self):
        return self.run

    def get(self, request, *args, **kwargs):
        return Response(api.ProbeRunDetailSerializer(self.run, context=_token_context(self)).data)
