"""The audit trail of an organisation: search, one object's history with diffs, and export.

Read-only everywhere: nothing here changes state, except that an export is itself recorded.
"""

from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404
from django.views.generic import ListView, TemplateView

from portal.accounts import permissions
from portal.audit import export
from portal.audit.filtersets import AuditEventFilterSet
from portal.audit.models import AuditEvent
from portal.audit.selectors import (
    NEWEST_FIRST,
    CappedPaginator,
    diff,
    events_for,
    object_events,
    object_type_label,
)
from portal.audit.timeline import STRANDS, site_timeline, strand_filter, timeline_entries
from portal.core.forms import UNPROCESSABLE
from portal.core.htmx import render_page_or_partial, wants_partial
from portal.core.tenancy import OrganisationMixin

PAGE_SIZE = 50


class AuditSearchMixin(OrganisationMixin):
    """Builds the search from the query string, within the organisation's audit scope."""

    permission = permissions.can_read_audit

    def build_filterset(self) -> AuditEventFilterSet:
        return AuditEventFilterSet(
            self.request.GET or None,
            queryset=events_for(self.request.actor, self.organisation).order_by(*NEWEST_FIRST),
            actor=self.request.actor,
            organisation=self.organisation,
        )

    def render_invalid(self, filterset):
        """422 with each field's errors; the results are not searched, so nothing changes."""
        self.object_list = AuditEvent.objects.none()
        context = self.get_context_data(filter=filterset, search_query="", search_failed=True)
        response = render_page_or_partial(
            self.request, "audit/event_list.html", "results", context, status=UNPROCESSABLE
        )
        if wants_partial(self.request):
            # The partial carries the field errors out of band; the table keeps what it showed.
            response["HX-Reswap"] = "none"
            response["HX-Push-Url"] = "false"
        return response


class AuditEventListView(AuditSearchMixin, ListView):
    """Search the audit trail. An htmx request gets the results partial (filters change it)."""

    template_name = "audit/event_list.html"
    context_object_name = "events"
    paginate_by = PAGE_SIZE
    paginator_class = CappedPaginator

    def get(self, request, *args, **kwargs):
        self.filterset = self.build_filterset()
        if self.filterset.is_bound and not self.filterset.is_valid():
            return self.render_invalid(self.filterset)
        self.object_list = self.filterset.qs
        context = self.get_context_data(
            filter=self.filterset, search_query=urlencode(self.filterset.active)
        )
        return render_page_or_partial(request, self.template_name, "results", context)


class AuditExportView(AuditSearchMixin, TemplateView):
    """The current search as a CSV or JSON download, streamed; the export is itself audited."""

    template_name = "audit/event_list.html"
    export_format = None  # "csv" or "json", from the URL pattern

    def get(self, request, *args, **kwargs):
        filterset = self.build_filterset()
        if filterset.is_bound and not filterset.is_valid():
            return self.render_invalid(filterset)
        return export.export_events(
            filterset.qs,
            export_format=self.export_format,
            organisation=self.organisation,
            filters=filterset.active,
        )

    def get_context_data(self, **kwargs):
        # A rejected export shows the search page with its errors (no ListView here).
        return super().get_context_data(events=[], page_obj=None, is_paginated=False, **kwargs)


class AuditObjectHistoryView(OrganisationMixin, TemplateView):
    """Every event of one object, newest first, each with what changed. Nothing visible: 404."""

    permission = permissions.can_read_audit
    template_name = "audit/object_history.html"

    def load_objects(self, **kwargs) -> None:
        self.object_type, self.object_id = kwargs["object_type"], kwargs["object_id"]
        events = object_events(
            self.request.actor,
            self.organisation,
            object_type=self.object_type,
            object_id=self.object_id,
        )
        self.page = CappedPaginator(events, PAGE_SIZE).get_page(self.request.GET.get("page"))
        if not self.page.paginator.count:
            raise Http404("No events of this object in this audit trail.")

    def get_context_data(self, **kwargs):
        events = list(self.page)
        for event in events:
            event.diff = diff(event.before, event.after)
        newest = events[0]
        kwargs.update(  # the URL's object_type and object_id arrive in kwargs too
            events=events,
            page_obj=self.page,
            object_type=self.object_type,
            object_id=self.object_id,
            object_label=object_type_label(self.object_type),
            object_repr=newest.object_repr or f"{self.object_type} #{self.object_id}",
            is_site=self.object_type == "sites.site" and self.object_id.isdigit(),
            object_organisation=newest.organisation,
        )
        return super().get_context_data(**kwargs)


class SiteTimelineForm(forms.Form):
    """Which strand of a site's timeline to show (every event when empty) and which page."""

    kind = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "Everything"), *((s.key, s.label) for s in STRANDS)],
    )
    page = forms.IntegerField(required=False, min_value=1)


class SiteTimelineView(OrganisationMixin, TemplateView):
    """One site's timeline: every event of the site, its instruction versions, their steps, its
    probe runs and its organisation's members, oldest first, paged. For those who may read the
    organisation's audit trail; another organisation's site is a 404."""

    permission = permissions.can_read_audit
    template_name = "audit/site_timeline.html"

    def load_objects(self, **kwargs) -> None:
        site_model = apps.get_model("sites", "Site")
        self.site = (
            site_model.objects.filter(pk=kwargs["site_pk"], organisation=self.organisation)
            .only("pk", "name")
            .first()
        )
        if self.site is None:
            raise Http404("No such site in this organisation.")

    def get(self, request, *args, **kwargs):
        form = SiteTimelineForm(request.GET)
        if not form.is_valid():
            context = self.get_context_data(form=form, entries=[], page_obj=None)
            return self.render_to_response(context, status=UNPROCESSABLE)
        events = site_timeline(request.actor, self.organisation, site_id=self.site.pk)
        kind = form.cleaned_data["kind"]
        if kind:
            events = events.filter(strand_filter(next(s for s in STRANDS if s.key == kind)))
        paginator = Paginator(events, PAGE_SIZE)
        page = paginator.get_page(form.cleaned_data["page"])
        context = self.get_context_data(
            form=form,
            entries=timeline_entries(page),
            page_obj=page,
            kind_query=urlencode({"kind": kind}) if kind else "",
        )
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, **kwargs)
