"""Probe pages: start a probe run, follow it live, download the client."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.htmx import HTMX_STOP_POLLING, render_page_or_partial, wants_partial
from portal.core.tenancy import OrganisationMixin
from sites.instructions import rollout_order
from sites.models import ProbeDirection, ProbePurpose, ProbeRun
from sites.probes.clients import SCRIPT_PATH, snippets
from sites.selectors import (
    probe_attempts,
    probe_observations,
    probe_run_for,
    recent_probe_runs,
)
from sites.services.probe_ports import client_ports
from sites.services.probes import launch_inbound_check, start_probe_run
from sites.vendors.base import StepKind
from sites.views.sites import SiteMixin


class ProbeRunContextMixin:
    """What a probe run's page (and the rollout page's probe panel) shows: the commands to run on
    the host while the run is open (only to those who may run probes: they carry the token, which
    proves steps done), then its state and observations."""

    def run_context(self, run: ProbeRun) -> dict:
        context = {
            "run": run,
            "observations": probe_observations(run),
            "attempts": probe_attempts(run) if run.direction == ProbeDirection.INBOUND else (),
        }
        has_clients = run.direction == ProbeDirection.OUTBOUND and run.is_open
        has_listeners = run.direction == ProbeDirection.INBOUND and run.state == "waiting"
        if not permissions.can_run_probes(self.request.actor, self.organisation):
            context["commands_hidden"] = has_clients or has_listeners
        elif has_clients:
            context["clients"] = self._client_snippets(run)
        elif has_listeners:
            context["listeners"] = self._listen_snippets(run)
        if not run.is_open and run.state != "proven":
            context["recheck_steps"] = self._recheck_steps(run)
        return context

    def _client_snippets(self, run):
        server = settings.PROBE_RESPONDER_HOST
        tcp, udp = client_ports(run)
        where = snippets.where_it_runs(run.purpose)
        return {
            "where": where,
            "python": snippets.python_command(server, run.token, tcp, udp),
            "powershell": snippets.powershell_check(server, run.token, tcp, udp, where=where),
            "posix": snippets.posix_check(server, run.token, tcp, udp, where=where),
        }

    def _listen_snippets(self, run):
        tcp = [e["port"] for e in run.expected if e["protocol"] == "tcp"]
        udp = [e["port"] for e in run.expected if e["protocol"] == "udp"]
        return {
            "where": snippets.BACKUP_HOST,
            "python": snippets.python_listen_command(run.token, tcp, udp),
            "powershell": snippets.powershell_listen(run.token, tcp, udp),
        }

    def _recheck_steps(self, run):
        """The steps to look at again: outbound → guide rules 1-3 and 6, inbound → 4 and 6."""
        if run.instruction_set is None:
            return []
        rules = {1, 2, 3, 6} if run.direction == ProbeDirection.OUTBOUND else {4, 5, 6}
        return [
            {"position": position, "title": step.title}
            for position, _, step in rollout_order(run.instruction_set.rendered)
            if step.kind == StepKind.CHANGE and rules & set(step.guide_rules)
        ]


class ProbeRunCreateView(ProbeRunContextMixin, SiteMixin, ContextMixin, View):
    """Start a probe run. From the rollout page's probe panel (htmx) the run's commands and live
    result come back into the panel, so the customer stays on the rollout and watches the
    verification steps complete; a plain form post goes to the run's own page."""

    permission = permissions.can_run_probes

    def post(self, request, *args, **kwargs):
        direction = request.POST.get("direction", "")
        purpose = request.POST.get("purpose", ProbePurpose.VERIFY)
        try:
            run = start_probe_run(
                site=self.site, direction=direction, purpose=purpose, by=request.user
            )
        except ServiceError as error:
            if wants_partial(request):
                context = self.get_context_data(error=error.message)
                return _partial(request, "start-error", context, status=UNPROCESSABLE)
            messages.error(request, error.message)
            return redirect("site-detail", org_slug=self.organisation.slug, site_pk=self.site.pk)
        if wants_partial(request):
            response = _partial(request, "run", self.get_context_data(**self.run_context(run)))
            return _with_runs_table(request, response, self.site, self.get_context_data())
        return redirect(
            "probe-run", org_slug=self.organisation.slug, site_pk=self.site.pk, run_pk=run.pk
        )


def _partial(request, name, context, status=200):
    """A partial of the run's page swapped into the page that posted (the site's probe panel),
    not the page of the URL: so not ``render_page_or_partial``."""
    response = render(request, f"sites/probe_run.html#{name}", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _with_runs_table(request, response, site, context):
    """Append the site page's table of recent runs, swapped out of band, so that the page's
    list shows a run that starts or ends in its probe panel."""
    table = render_to_string(
        "sites/site_detail.html#probe-runs",
        {**context, "probe_runs": recent_probe_runs(site), "oob": True},
        request=request,
    )
    response.content += table.encode()
    return response


def _from_site_page(request, site) -> bool:
    """Whether this htmx request comes from the site's page (its panel), not the run's own."""
    current = urlsplit(request.htmx.current_url or "").path
    return current == reverse(
        "site-detail", kwargs={"org_slug": site.organisation.slug, "site_pk": site.pk}
    )


class ProbeRunMixin(SiteMixin):
    """A view of one probe run of the site in the URL (another site's run: 404)."""

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.run = probe_run_for(self.site, kwargs["run_pk"])


class ProbeRunDetailView(ProbeRunContextMixin, ProbeRunMixin, TemplateView):
    """A probe run: what to run on the host, then its state and observations, polled every 2 s."""

    permission = permissions.can_view_organisation
    template_name = "sites/probe_run.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        response = render_page_or_partial(
            request, self.template_name, "status", context, stop_polling=not self.run.is_open
        )
        if response.status_code == HTMX_STOP_POLLING and _from_site_page(request, self.site):
            return _with_runs_table(request, response, self.site, context)  # its final state
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(**self.run_context(self.run), **kwargs)


class ProbeRunCheckView(ProbeRunMixin, View):
    """The customer's listener runs: let a worker connect to the site from outside."""

    permission = permissions.can_run_probes

    def post(self, request, *args, **kwargs):
        try:
            launch_inbound_check(run=self.run, by=request.user)
        except ServiceError as error:
            if wants_partial(request):
                return _partial(
                    request, "start-error", {"error": error.message}, status=UNPROCESSABLE
                )
            messages.error(request, error.message)
        else:
            if wants_partial(request):
                return _partial(request, "check-requested", {"site": self.site})
        return redirect(
            "probe-run", org_slug=self.organisation.slug, site_pk=self.site.pk, run_pk=self.run.pk
        )


class ProbeClientDownloadView(OrganisationMixin, View):
    permission = permissions.can_view_organisation

    def get(self, request, *args, **kwargs):
        return FileResponse(
            SCRIPT_PATH.open("rb"),
            as_attachment=True,
            filename="obm_probe.py",
            content_type="text/x-python",
        )
