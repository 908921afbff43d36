"""Following a rollout: marking a step done, failed or skipped (htmx swaps the step in place)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.generic import View

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.htmx import wants_partial
from portal.core.tenancy import OrganisationMixin
from sites.forms import StepStateForm
from sites.selectors import rollout_step_for, site_for
from sites.services.rollouts import mark_step


class StepStateView(OrganisationMixin, View):
    permission = permissions.can_edit_sites

    def load_objects(self, **kwargs) -> None:
        self.site = site_for(self.request.actor, self.organisation, kwargs["site_pk"])
        self.step = rollout_step_for(self.site, kwargs["step_pk"])

    def post(self, request, *args, **kwargs):
        site, step = self.site, self.step
        form = StepStateForm(request.POST)
        error = None
        if form.is_valid():
            try:
                step = mark_step(step=step, by=request.user, **form.cleaned_data)
            except ServiceError as failure:
                error = failure.message
        else:
            error = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in form.errors.items())
        if wants_partial(request):
            # The step's block, swapped in place (not a partial of this URL's page: there is
            # none); the trigger has the rollout summary poll at once.
            context = {
                "organisation": self.organisation,
                "site": site,
                "step": step,
                "error": error,
                "can_edit": True,
            }
            status = UNPROCESSABLE if error else 200
            response = render(request, "sites/_step_state.html", context, status=status)
            response["HX-Trigger"] = "rollout-changed"
            patch_vary_headers(response, ("HX-Request",))
            return response
        if error:
            messages.error(request, error)
        return redirect(f"/o/{self.organisation.slug}/sites/{site.pk}/#step-{step.position}")
