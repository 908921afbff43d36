"""The probe agent: its key on the site's page, and the endpoint the agent calls every hour."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from portal.accounts import permissions
from portal.audit import context
from portal.core.errors import ServiceError
from sites.probes.clients import snippets
from sites.services import agent as agent_services
from sites.services.probe_ports import client_ports
from sites.services.probes import ProbeRateLimited
from sites.views.sites import SiteMixin

_BEARER = "Bearer "


class AgentKeyView(SiteMixin, TemplateView):
    """The agent's page of a site: what it does, the key (shown once, when made) and the lines
    that schedule it on the backup host; a new key revokes the old one.

    Post, redirect, get: the new key waits in the session for the one page view that shows it,
    so a reload neither shows it again nor makes another key (which would revoke this one).
    """

    permission = permissions.can_edit_sites
    template_name = "sites/probe_agent.html"
    SESSION_KEY = "probe_agent_key_to_show"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shown = self.request.session.pop(self.SESSION_KEY, None)
        if shown and shown.get("site") == self.site.pk:
            key = shown["key"]
            portal_url = self.request.build_absolute_uri("/").rstrip("/")
            context.update(
                key=key,
                cron_line=snippets.agent_cron_line(portal_url, key),
                scheduled_task=snippets.agent_scheduled_task(portal_url, key),
            )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        if action == "revoke":
            agent_services.revoke_agent_key(site=self.site)
            messages.success(
                request, "The agent key is revoked: the agent can no longer probe this site."
            )
        elif action == "issue":
            key = agent_services.issue_agent_key(site=self.site)
            request.session[self.SESSION_KEY] = {"site": self.site.pk, "key": key}
        else:
            context = self.get_context_data(error="action: choose “issue” (a new key) or “revoke”.")
            return self.render_to_response(context, status=422)
        return redirect("probe-agent", org_slug=self.organisation.slug, site_pk=self.site.pk)


@method_decorator(csrf_exempt, name="dispatch")  # no session: the agent key is the credential
class AgentPollView(View):
    """POST /probe-agent/runs/ with ``Authorization: Bearer <agent key>``.

    201 with a new run (server, token, ports) when the site is due for re-verification; 200 with
    ``{"due": false, "fresh_until": …}`` when its proof is fresh; 401 for a key that is not valid;
    429 when the site or its organisation started too many probes just now; 409 when the site has
    no instructions yet.
    """

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        key = header[len(_BEARER) :].strip() if header.startswith(_BEARER) else ""
        try:
            site = agent_services.site_for_agent_key(key)
        except ServiceError as error:
            return JsonResponse({"detail": error.errors["key"][0]}, status=401)
        context.update(actor_label=f"probe agent of site #{site.pk}")
        try:
            poll = agent_services.poll_agent(site=site)
        except ServiceError as error:
            status = 429 if isinstance(error, ProbeRateLimited) else 409
            return JsonResponse({"detail": str(error)}, status=status)
        if poll.run is None:
            fresh_until = poll.fresh_until.isoformat() if poll.fresh_until else None
            return JsonResponse({"due": False, "fresh_until": fresh_until})
        run = poll.run
        tcp, udp = client_ports(run)
        return JsonResponse(
            {
                "due": True,
                "run": run.pk,
                "server": settings.PROBE_RESPONDER_HOST,
                "token": run.token,
                "tcp": tcp,
                "udp": udp,
                "expires_at": run.expires_at.isoformat(),
            },
            status=201,
        )
