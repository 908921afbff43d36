"""Listing, describing and reading sites; downloading their instructions."""

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.text import slugify
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language
from django.views.generic import TemplateView, View

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.htmx import HTMX_STOP_POLLING, render_page_or_partial, wants_partial
from portal.core.tenancy import OrganisationMixin
from sites.diagram import render_diagram
from sites.forms import HostInterfaceFormSet, SiteForm, apply_errors, interfaces_of
from sites.instructions import diff_documents
from sites.instructions.handover import Handover, handover_markdown, handover_text
from sites.models import RolloutState
from sites.selectors import (
    instruction_history,
    latest_proof_warning,
    previous_version,
    recent_probe_runs,
    rollout_steps,
    site_for,
    site_progress_for,
    site_progress_key,
)
from sites.selectors.analysis import site_analysis_context
from sites.selectors.lifecycle import monitoring_context, plan_context
from sites.services import sites as site_services
from sites.services.instructions import regenerate_site
from sites.vendors import vendor_display_name
from sites.views.dashboard import SiteDashboardMixin
from sites.views.handover_pdf import PdfUnavailable, handover_pdf


class SiteListView(SiteDashboardMixin, OrganisationMixin, TemplateView):
    """The site dashboard: one row per site the organisation covers (a reseller: its clients'),
    filtered, searched, sorted and paged in SQL with a fixed number of queries (see
    ``sites.selectors.dashboard``). A partial request gets the ``table`` partial.
    """

    permission = permissions.can_view_organisation

    def get(self, request, *args, **kwargs):
        return self.render_dashboard(request.GET)


class SiteMixin(OrganisationMixin):
    """A view of one site of the organisation in the URL (another organisation's site: 404)."""

    def load_objects(self, **kwargs) -> None:
        self.site = site_for(self.request.actor, self.organisation, kwargs["site_pk"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, **kwargs)


class SiteFormMixin:
    """Shared by create and edit: the form, its interface rows, and errors from the service."""

    template_name = "sites/site_form.html"

    def forms(self, initial=None):
        data = self.request.POST if self.request.method == "POST" else None
        interfaces = (initial or {}).get("host_interfaces") or None
        return (
            SiteForm(data, initial=SiteForm.initial_from(initial) if initial else None),
            HostInterfaceFormSet(data, initial=interfaces, prefix="iface"),
        )

    def render_forms(self, form, formset, status=200):
        context = self.get_context_data(form=form, formset=formset)
        return self.render_to_response(context, status=status)

    def submit(self, save):
        form, formset = self.forms()
        if not (form.is_valid() and formset.is_valid()):
            return self.render_forms(form, formset, status=UNPROCESSABLE)
        try:
            site = save(form.to_data(interfaces_of(formset)), form.cleaned_data["reverify"])
        except ServiceError as error:
            apply_errors(form, formset, error.errors)
            return self.render_forms(form, formset, status=UNPROCESSABLE)
        return redirect("site-detail", org_slug=self.organisation.slug, site_pk=site.pk)


class SiteCreateView(SiteFormMixin, OrganisationMixin, TemplateView):
    permission = permissions.can_edit_sites

    def get(self, request, *args, **kwargs):
        return self.render_forms(*self.forms())

    def post(self, request, *args, **kwargs):
        def save(data, reverify):
            site = site_services.create_site(
                organisation=self.organisation, data=data, reverify=reverify
            )
            messages.success(
                request, f"Site “{site.name}” saved; its instructions are being prepared."
            )
            return site

        return self.submit(save)


class SiteUpdateView(SiteFormMixin, SiteMixin, TemplateView):
    permission = permissions.can_edit_sites

    def get(self, request, *args, **kwargs):
        return self.render_forms(
            *self.forms(initial={**self.site.description, "reverify": self.site.reverify})
        )

    def post(self, request, *args, **kwargs):
        def save(data, reverify):
            site = site_services.update_site(site=self.site, data=data, reverify=reverify)
            messages.success(request, "Site saved. New instructions follow if anything changed.")
            return site

        return self.submit(save)


# A step in one of these states counts as finished.
FINISHED_STATES = ("done", "skipped")

# The id of the site page's panel shown until the first instructions exist; it polls the page.
PENDING_PANEL = "instructions-pending"

# How long a rendered live partial is kept (it is also replaced as soon as what it shows changes).
LIVE_CACHE_SECONDS = 600


class SiteDetailView(SiteMixin, TemplateView):
    """The site's current instructions as numbered steps beside their rollout state.

    Until a worker has prepared the first instructions, a panel polls every 2 s and is replaced
    by the steps when they arrive (``pending``).

    The page polls every 1.5 s (so that a change shows within 2 s, the request included) and right
    after a step changes here: a partial request gets the rollout summary and, out of band, every
    step's state, so changes by others (a colleague, a probe) show without a reload; polling stops
    (286) once the rollout is done.
    """

    permission = permissions.can_view_organisation
    template_name = "sites/site_detail.html"

    def load_objects(self, **kwargs) -> None:
        if wants_partial(self.request):
            # The poll: what the live part shows, in one query (Http404 as for the page); the
            # site is loaded only when that changed (see ``live``).
            self.progress = site_progress_key(self.organisation, kwargs["site_pk"])
        else:
            super().load_objects(**kwargs)

    def get(self, request, *args, **kwargs):
        if wants_partial(request):
            if request.htmx.trigger == PENDING_PANEL:
                return self.pending(**kwargs)
            return self.live(**kwargs)
        context = self.get_context_data(**kwargs)
        return render_page_or_partial(request, self.template_name, "live", context)

    def pending(self, **kwargs) -> HttpResponse:
        """The answer to the panel shown while a worker prepares the first instructions: the
        same panel (200, so it asks again) until they exist, then everything the page shows of
        them (the steps, the diagram, the probes), which replaces it, with 286 to stop asking."""
        self.site = site_for(self.request.actor, self.organisation, kwargs["site_pk"])
        context = self.get_context_data(**kwargs)
        ready = context["instruction_set"] is not None
        return render_page_or_partial(
            self.request,
            self.template_name,
            "instructions" if ready else "pending",
            context,
            stop_polling=ready,
        )

    def live(self, **kwargs):
        """The ``live`` partial, 286 once the rollout is done. Every open page asks for it every
        1.5 s and it seldom changes, so it is rendered again only when what it shows changed
        (``self.progress``), and otherwise answered with what was rendered last time, from the
        cache. The key holds everything the partial shows (beside what never changes for an
        instruction set: its warnings and what changed since the version before)."""
        shown = (
            self.organisation.slug,
            kwargs["site_pk"],
            self.progress,
            get_current_timezone_name(),
            get_language(),
        )
        digest = hashlib.sha256(repr(shown).encode()).hexdigest()
        etag = f'"{digest[:32]}"'
        if etag in parse_etags(self.request.headers.get("If-None-Match", "")):
            # The browser holds this very partial (it revalidates: see ``_conditional``).
            return self._conditional(HttpResponseNotModified())
        key = "site-live:" + digest
        cached = cache.get(key)
        if cached is not None:
            content, status = cached
            response = HttpResponse(content, status=status)
            patch_vary_headers(response, ("HX-Request",))
            return self._conditional(response, etag)
        self.site = site_progress_for(self.organisation, kwargs["site_pk"])
        context = self.get_live_context_data(**kwargs)
        rollout = context.get("rollout")
        status = HTMX_STOP_POLLING if rollout and rollout.state == RolloutState.DONE else 200
        response = render_page_or_partial(
            self.request, self.template_name, "live", context, status=status
        )
        # Kept only if nothing changed while it was rendered, so the key matches the content.
        if site_progress_key(self.organisation, self.site.pk) == self.progress:
            cache.set(key, (response.content, status), LIVE_CACHE_SECONDS)
            return self._conditional(response, etag)
        return response

    @staticmethod
    def _conditional(response: HttpResponse, etag: str = "") -> HttpResponse:
        """An ETag on a poll's 200 (its key: what the partial shows), and ``no-cache``: the
        browser keeps the partial but asks each time, with ``If-None-Match``, and an unchanged
        partial is a 304 without a body, which the browser hands to htmx as the 200 it kept.
        ``private``: it depends on the session. A finished rollout (286) is never asked again."""
        if response.status_code == 200 and etag:
            response["ETag"] = etag
        if response.status_code in (200, 304):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ("HX-Request",))
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        current = self.site.current_instruction_set
        context.update(
            history=list(instruction_history(self.site)[:10]),
            probe_runs=recent_probe_runs(self.site),
            proof_warning=latest_proof_warning(self.site) if self.site.last_proven_at else "",
            **self._rollout_context(current, badges_only=False),
            **site_analysis_context(self.site, current),  # "Is it already allowed?" (#11)
            **monitoring_context(self.site),
        )
        if current is not None:
            context["diagram"] = render_diagram(
                current.description,
                current.rules,
                vendor_name=vendor_display_name(self.site.vendor),
            )
        return context

    def get_live_context_data(self, **kwargs):
        """The ``live`` partial's context: the rollout summary (version, state, progress, what
        changed since the version before, warnings) and every step's badge. The page polls it
        every 1.5 s, so no diagram, history or probe runs."""
        context = super().get_context_data(**kwargs)
        context.update(self._rollout_context(self.site.current_instruction_set, badges_only=True))
        return context

    @staticmethod
    def _rollout_context(current, *, badges_only: bool) -> dict:
        """The instruction set, its steps beside their content, the rollout and its progress,
        and what changed since the version before (the page and its live part alike)."""
        if current is None:
            return {"instruction_set": None}
        steps = rollout_steps(current, badges_only=badges_only)
        context = {
            "instruction_set": current,
            "steps": steps,
            "next_step": next((s for s, _ in steps if s.state == "pending"), None),
            "finished": sum(s.state in FINISHED_STATES for s, _ in steps),
            "rollout": current.rollout,
        }
        context.update(plan_context(current))
        previous = previous_version(current)
        # A plan's steps are the changes themselves (and its reasons say why): no step diff.
        if previous is not None and not current.is_plan:
            context["diff"] = diff_documents(previous.rendered, current.rendered)
            context["previous"] = previous
        return context


class SiteRegenerateView(SiteMixin, View):
    """Render the instructions again now (after a renderer upgrade, say); a no-op if unchanged."""

    permission = permissions.can_edit_sites

    def post(self, request, *args, **kwargs):
        instruction_set, is_new = regenerate_site(site_id=self.site.pk, by=request.user)
        if instruction_set is None:
            messages.error(request, "This site has no description yet.")
        elif is_new:
            messages.success(
                request, f"Version {instruction_set.version} of the instructions is ready."
            )
        else:
            messages.info(request, "Nothing changed: the instructions are up to date.")
        return redirect("site-detail", org_slug=self.organisation.slug, site_pk=self.site.pk)


class InstructionDownloadView(SiteMixin, TemplateView):
    """The current instructions as one file to hand over: the page's steps and numbering, under
    a header naming the site, its organisation, the version and the day it was prepared."""

    permission = permissions.can_view_organisation
    formats = {
        "md": ("text/markdown", handover_markdown),
        "txt": ("text/plain", handover_text),
    }

    def get(self, request, *args, **kwargs):
        current = self.site.current_instruction_set
        fmt = kwargs["fmt"]
        if current is None or (fmt not in self.formats and fmt != "pdf"):
            return HttpResponse("No instructions yet.", status=404, content_type="text/plain")
        about = Handover(
            site=self.site.name,
            organisation=self.site.organisation.name,
            version=current.version,
            prepared_on=timezone.localdate(current.created_at),
        )
        if fmt == "pdf":
            diagram = render_diagram(
                current.description,
                current.rules,
                vendor_name=vendor_display_name(self.site.vendor),
            )
            try:
                body = handover_pdf(current.rendered, about, diagram=diagram)
            except PdfUnavailable:
                return HttpResponse(
                    "The PDF cannot be made on this server (its PDF libraries, Pango, are not "
                    "installed); download the Markdown or text file instead.",
                    status=503,
                    content_type="text/plain",
                )
            response = HttpResponse(body, content_type="application/pdf")
        else:
            content_type, render = self.formats[fmt]
            body = render(current.rendered, about)
            response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        filename = f"{slugify(self.site.name)}-v{current.version}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
