"""The site dashboard (the site list of a customer, a reseller or the provider), its bulk actions,
and the page that follows a bulk job.

The list itself is ``sites.views.sites.SiteListView``, built on ``SiteDashboardMixin`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin

from portal.accounts import permissions
from portal.accounts.models import OrganisationKind
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, add_service_error
from portal.core.htmx import HTMX_STOP_POLLING, render_page_or_partial, wants_partial
from portal.core.tenancy import OrganisationMixin
from portal.jobs.models import JobKind
from sites.models import Lifecycle
from sites.selectors import organisation_choices, site_ids
from sites.selectors.dashboard import (
    ROLLOUT_CHOICES,
    dashboard_columns,
    dashboard_filterset,
    dashboard_page,
    filter_query,
    filtered_sites,
    flag_choices,
    job_for,
    selected_sites,
    sort_columns,
)
from sites.selectors.lifecycle import EXPIRING_WITHIN_DAYS, change_needed_label
from sites.selectors.proof import FLAG_LABELS, STALLABLE_STATES, proof_warning_label
from sites.selectors.sites import covered_sites
from sites.services import bulk, dashboard_counts
from sites.vendors import vendor_choices, vendor_display_name


def _age(then, now) -> str:
    """ "3 days ago": the largest unit only (``timesince`` translates every part: slow for 50 rows)."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


class _UrlPattern:
    """A URL reversed once with placeholders, filled per row (50 rows: 100 fewer reverses)."""

    def __init__(self, name: str, arity: int):
        placeholders = [str(9 ** (n + 9)) for n in range(arity)]  # digits: fit any converter
        url, self.literals = reverse(name, args=placeholders), []
        for placeholder in placeholders:
            literal, url = url.split(placeholder, 1)
            self.literals.append(literal)
        self.literals.append(url)

    def __call__(self, *args) -> str:
        parts = [self.literals[0]]
        for value, literal in zip(args, self.literals[1:], strict=True):
            parts += [str(value), literal]
        return "".join(parts)


@dataclass(frozen=True)
class DashboardRow:
    """One site as the dashboard shows it, formatted here once: the template only places it."""

    pk: str
    name: str
    url: str
    organisation: str
    organisation_query: str
    vendor: str
    steps_total: int
    steps_label: str
    progress: str
    rollout_state: str
    flag: str  # proof_warning_label: "failing", "stale", "unproven", "warning" or "" (proven)
    flag_label: str
    warning: str  # why a proof is "warning" (the NAT warning), else ""
    waiting_url: str
    stalled: bool  # an unfinished rollout unchanged for more than ROLLOUT_STALLED_DAYS
    days_in_state: str  # "12 days" since the rollout last changed; "" without instructions
    pending: bool  # instructions being generated: the row polls until they are there
    probe_state: str
    probe_label: str
    probe_age: str
    probe_at: str
    updated: str
    # Lifecycle (sites.services.lifecycle, expiry): the day monitoring access ends when within
    # the "expiring" flag's days ("" otherwise), and "Change needed: N steps" for an unfinished
    # change plan (a finished rollout's new version), "" otherwise.
    expiring: str = ""
    change_needed: str = ""


def dashboard_rows(sites, *, now) -> list[DashboardRow]:
    """``sites``: rows of ``sites.selectors.dashboard.dashboard_columns``."""
    detail, probe_run = _UrlPattern("site-detail", 2), _UrlPattern("probe-run", 3)
    stalled_before = now - timedelta(days=settings.ROLLOUT_STALLED_DAYS)
    rows = []
    for site in sites:
        slug, probe_at = site.organisation_slug, site.last_probe_at
        flag, since = proof_warning_label(site, now=now), site.state_since
        days = (now - since).days if since else None
        rollout_state, total, finished = (
            site.rollout_state or "",
            site.steps_total or 0,
            site.steps_finished or 0,
        )
        rows.append(
            DashboardRow(
                pk=str(site.pk),
                name=site.name,
                url=detail(slug, site.pk),
                organisation=site.organisation_name,
                organisation_query=urlencode({"organisation": slug}),
                vendor=vendor_display_name(site.vendor),
                steps_total=total,
                steps_label=f"{finished} of {total} steps · {rollout_state.replace('_', ' ').capitalize()}",
                progress=str(100 * finished // total if total else 0),
                rollout_state=rollout_state,
                flag=flag,
                flag_label=FLAG_LABELS[flag],
                warning=site.proof_warning if flag == "warning" else "",
                stalled=bool(
                    since and since < stalled_before and rollout_state in STALLABLE_STATES
                ),
                days_in_state="" if days is None else f"{days} day{'s' if days != 1 else ''}",
                pending=is_pending(site, now=now),
                waiting_url=probe_run(slug, site.pk, site.waiting_run_id)
                if site.waiting_run_id
                else "",
                probe_state=site.last_probe_state or "",
                probe_label=(site.last_probe_state or "").replace("_", " ").capitalize(),
                probe_age=_age(probe_at, now) if probe_at else "",
                probe_at=probe_at.isoformat() if probe_at else "",
                updated=timezone.localtime(site.updated_at).strftime("%Y-%m-%d"),
                expiring=_expiring(site, now),
                change_needed=change_needed_label(site.plan_kind, rollout_state, total - finished),
            )
        )
    return rows


def _expiring(site, now) -> str:
    ends = site.monitoring_expires_on
    if ends is None or site.lifecycle != Lifecycle.ACTIVE:
        return ""
    return ends.isoformat() if (ends - timezone.localdate(now)).days <= EXPIRING_WITHIN_DAYS else ""


# How long a described site without instructions is taken to be waiting for the worker (after
# that the row stops polling: a lost task is the regeneration sweeper's, not the browser's).
PENDING_FOR = timedelta(minutes=10)


def is_pending(site, *, now) -> bool:
    """Whether the row's instructions are being generated: described, none yet, changed lately."""
    return bool(
        site.profile_id
        and site.current_instruction_set_id is None
        and site.updated_at > now - PENDING_FOR
    )


# How long a page follows a count it asked of the workers before it says that none has answered
# (less than the time after which the count is asked for again).
HEADLINE_WAIT = dashboard_counts.ASK_AGAIN_AFTER / 2


def _clock(moment, now) -> str:
    """ "14:02" today, "6 Dec 14:02" on another day (local time)."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(now).date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


def headline(actor, organisation, now) -> dict:
    """The headline counts (``sites.services.dashboard_counts``), each with its label and its
    filter's query (zeroes left out); when they were counted ("" when just now); ``status``, what
    the headline says of a count asked of the workers; ``poll``, whether the page follows it."""
    counted = dashboard_counts.headline_counts(actor, organisation, now=now)
    labels = dict(flag_choices())
    waiting_since = counted.requested_at if counted.counting else None
    following = waiting_since is not None and now - waiting_since <= HEADLINE_WAIT
    status = ""
    if waiting_since is not None:
        if following:
            status = "Counting again…" if counted.counts is not None else "Counting the flags…"
        else:
            status = (
                f"A new count asked for at {_clock(waiting_since, now)} waits for a background "
                "worker."
            )
    return {
        "items": [
            {
                "flag": flag,
                "label": labels[flag],
                "count": count,
                "query": urlencode({"flag": flag}),
            }
            for flag, count in (counted.counts or {}).items()
            if count and flag in labels
        ],
        "counted_at": ""
        if counted.counted_at is None or counted.counted_at == now
        else _clock(counted.counted_at, now),
        "status": status,
        "poll": following,
    }


def page_links(list_url: str, query: QueryDict, page) -> dict[str, str]:
    """The pagination's links (first, previous, next, last; those that exist), each keeping the
    filter and sort of ``query`` (``page``: a ``sites.selectors.dashboard.DashboardPage``)."""

    def url(extra: dict[str, str]) -> str:
        link = query.copy()
        link.update(extra)
        return f"{list_url}?{link.urlencode()}" if link else list_url

    links = {}
    if page.has_previous:
        links.update(first=url({}), previous=url(page.previous))
    if page.has_next:
        links.update(next=url(page.next), last=url(page.last))
    return links


class SiteDashboardMixin:
    """Renders the dashboard for filter parameters in ``data`` (a GET, or a bulk form's POST)."""

    template_name = "sites/site_list.html"

    def dashboard_context(self, data) -> dict:
        actor, now = self.request.actor, timezone.now()
        filterset = dashboard_filterset(actor, self.organisation, data, now=now)
        result = dashboard_page(filterset, data)
        query = filter_query(data)
        form = filterset.form
        list_url = reverse("site-list", args=[self.organisation.slug])
        return {
            "filterset": filterset,
            "filter_query": query,
            "is_filtered": any(name != "sort" for name in query),
            "list_url": list_url,
            "page_links": page_links(list_url, query, result),
            "selected": set(data.getlist("site")) if hasattr(data, "getlist") else set(),
            "bulk_scope": data.get("scope", ""),
            "columns": sort_columns(query),
            "rows": dashboard_rows(result.rows, now=now),
            "page_obj": result,
            "show_organisation": self.organisation.kind != OrganisationKind.CUSTOMER,
            # Lazy: the table partial needs none.
            "organisation_options": lambda: organisation_choices(filterset),
            "headline": lambda: headline(actor, self.organisation, now),
            # The filter form's selects, as plain choices (see organisation_options).
            "chosen": {
                name: form[name].value() or ""
                for name in ("organisation", "vendor", "rollout", "flag")
            },
            "vendor_options": vendor_choices(),
            "rollout_options": ROLLOUT_CHOICES,
            "flag_options": flag_choices(),
            "can_bulk_edit": permissions.can_edit_sites_below(actor, self.organisation),
        }

    def render_dashboard(self, data, *, status=200, **extra):
        if data.get("row") and wants_partial(self.request):
            return self.render_row(data["row"])
        if data.get("headline") and wants_partial(self.request):
            return self.render_headline()
        context = self.get_context_data(**self.dashboard_context(data), **extra)
        return render_page_or_partial(
            self.request, self.template_name, "table", context, status=status
        )

    def render_headline(self) -> HttpResponse:
        """The headline alone, polled while the workers count it; 286 once the page need not
        follow it any more."""
        counts = headline(self.request.actor, self.organisation, timezone.now())
        context = {
            "headline": counts,
            "list_url": reverse("site-list", args=[self.organisation.slug]),
        }
        return render_page_or_partial(
            self.request, self.template_name, "headline", context, stop_polling=not counts["poll"]
        )

    def render_row(self, site_pk: str) -> HttpResponse:
        """One row, polled while its instructions are being generated; 286 once they are (or
        the site left the page's scope: nothing more to wait for)."""
        now = timezone.now()
        ids = list(
            covered_sites(self.request.actor, self.organisation)
            .filter(pk=int(site_pk) if site_pk.isdigit() else None)
            .values_list("pk", flat=True)
        )
        rows = dashboard_rows(dashboard_columns(ids, now=now).values(), now=now) if ids else []
        if not rows:
            return HttpResponse(status=HTMX_STOP_POLLING)
        context = {
            "row": rows[0],
            "list_url": reverse("site-list", args=[self.organisation.slug]),
            "show_organisation": self.organisation.kind != OrganisationKind.CUSTOMER,
        }
        return render_page_or_partial(
            self.request, self.template_name, "row", context, stop_polling=not rows[0].pending
        )


class BulkActionForm(forms.Form):
    """What the dashboard's bulk bar posts: an action, and the selected sites or the filter."""

    ACTIONS = {
        "regenerate": JobKind.BULK_REGENERATE,
        "reverify": JobKind.BULK_REVERIFY,
        "export_csv": "csv",
        "export_json": "json",
    }
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    scope = forms.ChoiceField(
        choices=[("selected", "Selected sites"), ("filter", "All matching")], required=False
    )
    site = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean_site(self):
        values = self.cleaned_data["site"] or []
        try:
            return sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise ValidationError("Unknown site in the selection.") from None

    def clean(self):
        data = super().clean()
        if data.get("scope") != "filter" and not data.get("site"):
            self.add_error(
                "site", "Select at least one site, or choose all sites matching the filter."
            )
        return data


class SiteBulkView(SiteDashboardMixin, OrganisationMixin, ContextMixin, View):
    """POST from the dashboard's bulk bar. Export answers with the file; regenerate and re-verify
    queue a job and redirect to its page. An invalid selection re-renders the dashboard (422)."""

    permission = permissions.can_view_organisation  # exporting is a read; the rest asks more below

    def post(self, request, *args, **kwargs):
        form = BulkActionForm(request.POST)
        if not form.is_valid():
            return self.render_dashboard(request.POST, status=UNPROCESSABLE, bulk_form=form)
        action = form.cleaned_data["action"]
        if action.startswith("export"):
            from sites.views.transfer import export_filters, export_response

            return export_response(
                self.selected_sites(form),
                BulkActionForm.ACTIONS[action],
                self.organisation,
                filters=export_filters(request.POST),
            )
        if not permissions.can_edit_sites_below(request.actor, self.organisation):
            raise PermissionDenied("can_edit_sites_below refused")
        try:
            job = bulk.start_bulk_job(
                kind=BulkActionForm.ACTIONS[action],
                actor=request.actor,
                organisation=self.organisation,
                site_ids=site_ids(self.selected_sites(form)),
                back=filter_query(request.POST).urlencode(),
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.render_dashboard(request.POST, status=UNPROCESSABLE, bulk_form=form)
        return redirect("site-job", org_slug=self.organisation.slug, job_pk=job.pk)

    def selected_sites(self, form):
        """The selection, always through the scoped selector: ids of other tenants select nothing."""
        if form.cleaned_data.get("scope") == "filter":
            return filtered_sites(self.request.actor, self.organisation, self.request.POST)
        return selected_sites(self.request.actor, self.organisation, form.cleaned_data["site"])


class SiteJobView(OrganisationMixin, TemplateView):
    """A bulk job's progress: its ``status`` partial is polled every second; 286 stops the polling."""

    permission = permissions.can_view_organisation
    template_name = "jobs/job_detail.html"

    def load_objects(self, **kwargs) -> None:
        self.job = job_for(self.organisation, kwargs["job_pk"])

    def get(self, request, *args, **kwargs):
        job = self.job
        back = QueryDict(job.params.get("back", ""))
        requests = bulk.proof_requests(job) if job.kind == JobKind.BULK_REVERIFY else None
        # A finished request job still follows the proofs arriving, more slowly.
        awaiting_proofs = bool(requests and requests["proven"] < requests["sent"])
        context = self.get_context_data(
            job=job,
            requests=requests,
            request_days=settings.PROOF_REQUEST_DAYS,
            poll_every=""
            if job.is_finished and not awaiting_proofs
            else "10s"
            if job.is_finished
            else "1s",
            summary=bulk.summary(job) if job.kind in bulk.BULK_KINDS else job.result,
            back_url=reverse("site-list", args=[self.organisation.slug])
            + (f"?{filter_query(back).urlencode()}" if back else ""),
        )
        return render_page_or_partial(
            request,
            self.template_name,
            "status",
            context,
            stop_polling=job.is_finished and not awaiting_proofs,
        )
