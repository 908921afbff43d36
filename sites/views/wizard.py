"""The step-by-step wizard that creates a site (``/o/<org>/sites/new/``): HTTP only.

Every step is one form posting every answer so far (``sites.wizard``); the buttons say where to
go (``go``: next, back, a step, the review, confirm). Moving forward validates every step before
the target and shows the first one with errors (422); going back never validates, so nothing is
ever lost. Only "Confirm and create" calls ``create_site``. Two htmx endpoints enhance the page:
one answers a single question's error slot as it is typed (422 while wrong, 200 when right), the
other the live preview of the derived rules.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import View

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.tenancy import OrganisationMixin
from sites.forms import HostInterfaceFormSet
from sites.selectors import default_profile_spec
from sites.services import sites as site_services
from sites.views.sites import SiteCreateView
from sites.wizard import page, preview, review, steps
from sites.wizard.answers import Answers, read_answers

TEMPLATE = "sites/wizard/wizard.html"
STEP_FIELD = "wizard_step"  # which page posted: a step's slug or "review"


class WizardMixin(OrganisationMixin):
    permission = permissions.can_edit_sites

    def answers(self) -> Answers:
        return read_answers(self.request.POST, organisation=self.organisation)

    def posted_step(self) -> steps.WizardStep | None:
        return steps.step_named(self.request.POST.get(STEP_FIELD))

    def preview_context(self, answers: Answers | None, step) -> dict:
        """The preview panel; the default profile is read only when there is a site to preview."""
        profile = None
        if answers is not None and answers.description is not None:
            profile = default_profile_spec()
        return preview.panel(answers, step, profile)


class SiteWizardView(WizardMixin, SiteCreateView):
    """The wizard's pages. A POST without ``wizard_step`` is the one-page form's (which lives at
    ``sites/new/form/``) and is handled as before, so nothing that posted it breaks."""

    def get(self, request, *args, **kwargs):
        return self.render_step(None, steps.STEPS[0])

    def post(self, request, *args, **kwargs):
        if STEP_FIELD not in request.POST:
            return super().post(request, *args, **kwargs)
        answers = self.answers()
        here = request.POST[STEP_FIELD]
        if here not in steps.ORDER:
            here = steps.STEP_SLUGS[0]
        go = request.POST.get("go", "next")
        from_review = here == steps.REVIEW or "from_review" in request.POST
        if go == "confirm":
            return self.confirm(answers)
        if go == "add-interface" and here == "monitoring":
            return self.render_step(
                answers, steps.step_named(here), extra_rows=1, from_review=from_review
            )
        target = steps.destination(here, go)
        if steps.is_forward(here, target):
            blocking = answers.first_invalid_step(before=target)
            if blocking is not None:
                return self.render_step(
                    answers, blocking, show_errors=True, from_review=from_review
                )
        if target == steps.REVIEW:
            return self.render_review(answers)
        return self.render_step(answers, steps.step_named(target), from_review=from_review)

    def confirm(self, answers: Answers):
        blocking = answers.first_invalid_step()  # every error belongs to a step
        if blocking is not None:
            return self.render_step(answers, blocking, show_errors=True, from_review=True)
        try:
            site = site_services.create_site(
                organisation=self.organisation, data=answers.site_data, reverify=answers.reverify
            )
        except ServiceError as error:
            answers = answers.with_errors(error.errors)
            blocking = answers.first_invalid_step() or steps.STEPS[0]
            return self.render_step(answers, blocking, show_errors=True, from_review=True)
        messages.success(
            self.request, f"Site “{site.name}” created; its instructions are being prepared."
        )
        return redirect("site-detail", org_slug=self.organisation.slug, site_pk=site.pk)

    def render_step(self, answers, step, *, show_errors=False, extra_rows=0, from_review=False):
        form, formset = page.display_forms(answers, extra_rows)
        errors = answers.errors_of(step) if (answers is not None and show_errors) else {}
        check_url = reverse("site-wizard-check", args=[self.organisation.slug])
        questions = page.questions(step, answers, form, formset, errors, check_url)
        shown = {q.question.name for q in questions} | {
            cell.key for q in questions for row in q.rows for _, cell in row
        }
        context = self.get_context_data(
            step=step,
            stepper=page.stepper(step.slug),
            questions=questions,
            hidden=[form[name] for name in form.fields if name not in step.fields],
            formset=formset,
            interfaces_shown=steps.INTERFACES in step.fields,
            non_field_errors=[
                f"{steps.slot_label(key)}: {m}" if key else m
                for key, ms in errors.items()
                if key not in shown
                for m in ms
            ],
            show_errors=bool(errors),
            earlier=page.earlier_errors(answers, step),
            from_review=from_review,
            is_last_step=step is steps.STEPS[-1],
            can_add_interface=len(formset.forms) < HostInterfaceFormSet.max_num,
            **self.preview_context(answers, step),
        )
        return render(self.request, TEMPLATE, context, status=UNPROCESSABLE if errors else 200)

    def render_review(self, answers: Answers):
        form, formset = page.display_forms(answers)
        context = self.get_context_data(
            step=None,
            review=True,
            stepper=page.stepper(steps.REVIEW),
            summary=review.summary(answers),
            interfaces=answers.site_data.get("host_interfaces", []),
            firewall_interface=answers.site_data.get("firewall_interface", ""),
            hidden=[form[name] for name in form.fields],
            formset=formset,
            interfaces_shown=False,
            **self.preview_context(answers, None),
        )
        return render(self.request, TEMPLATE, context)


class SiteWizardCheckView(WizardMixin, View):
    """One question's verdict as it is typed (htmx): 422 with its errors, or 200 when right.

    Cross-field checks show on the field they concern: the other questions of the same step that
    already have an answer get their slot refreshed out of band (fixing the LAN network clears
    the host address's "not inside the LAN"), and so does the note about earlier steps.
    """

    def post(self, request, *args, **kwargs):
        key = request.GET.get("field", "")
        if not steps.is_slot(key):
            message = f"Unknown question {key!r}." if key else "Say which question to check."
            slot = page.Slot("field", [message])
            return render(request, f"{TEMPLATE}#slot", {"slot": slot}, status=UNPROCESSABLE)
        answers = self.answers()
        step = self.posted_step() or steps.step_of(key)
        errors = {steps.slot_of(k): [] for k in answers.errors}
        for k, ms in answers.errors.items():
            errors[steps.slot_of(k)].extend(ms)
        main = page.slot(answers, key, errors)
        others = [
            page.slot(answers, other, errors) for other in page.answered_slots(request.POST, step)
        ]
        for other in others:
            other.oob = True
        others = [other for other in others if other.key != key]
        context = {
            "slot": main,
            "others": others,
            "earlier": page.earlier_errors(answers, step),
            "earlier_oob": True,
            "organisation": self.organisation,
        }
        status = UNPROCESSABLE if main.errors else 200
        return render(request, f"{TEMPLATE}#check", context, status=status)


class SiteWizardPreviewView(WizardMixin, View):
    """The live preview of the rules the answers so far derive (htmx): 200 with the rules, or
    422 naming the answers that stand in the way."""

    def post(self, request, *args, **kwargs):
        answers = self.answers()
        context = {
            "organisation": self.organisation,
            **self.preview_context(answers, self.posted_step()),
        }
        status = 200 if context["preview"] is not None else UNPROCESSABLE
        return render(request, f"{TEMPLATE}#preview_body", context, status=status)
