"""The step-by-step wizard that creates a site (``/o/<org>/sites/new/``).

Every step is one form posting every answer so far (see ``sites.wizard``); the buttons say where
to go (``go``: next, back, a step, the review, confirm). Moving forward validates every step before
the target and shows the first one with errors (422); going back never validates, so nothing is
ever lost. Only "Confirm and create" calls ``create_site``. Two htmx endpoints enhance the page:
one answers a single question's error slot as it is typed (422 while wrong, 200 when right), the
other the live preview of the derived rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import View

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.tenancy import OrganisationMixin
from sites import wizard
from sites.forms import HostInterfaceFormSet, SiteForm
from sites.models import ServiceProfile
from sites.services import sites as site_services
from sites.vendors import RENDERERS, vendor_display_name
from sites.views.sites import SiteCreateView

TEMPLATE = "sites/wizard/wizard.html"
STEP_FIELD = "wizard_step"  # which page posted: a step's slug or "review"
LIVE_TRIGGER = "input changed delay:400ms, change"


@dataclass
class Slot:
    """Where one question's (or one interface cell's) errors show."""

    key: str
    errors: list[str] = dataclass_field(default_factory=list)
    note: str = ""
    oob: bool = False

    @property
    def dom_id(self) -> str:
        return wizard.slot_dom_id(self.key)

    @property
    def label(self) -> str:
        return wizard.slot_label(self.key)


@dataclass
class QuestionView:
    question: wizard.Question
    slot: Slot
    field: object = None  # the bound field; None for the interface rows
    rows: list = dataclass_field(default_factory=list)  # interface rows: [(bound field, slot), …]

    @property
    def kind(self) -> str:
        if self.question.field == wizard.INTERFACES:
            return "interfaces"
        return {"checkbox": "checkbox", "radio": "radio"}.get(self.field.widget_type, "input")

    @property
    def why_id(self) -> str:
        return f"why_{self.question.field}"

    @property
    def invalid(self) -> bool:
        return bool(self.slot.errors) or any(slot.errors for row in self.rows for _, slot in row)


def _vendor_note(slug: str) -> str:
    renderer = RENDERERS.get(slug)
    if renderer is None or not renderer.describes_firewall:
        return ""
    return f"The instructions are written for {renderer.versions}."


def _slot(answers: wizard.Answers | None, key: str, errors: dict) -> Slot:
    slot = Slot(key, errors.get(key, []))
    if key == "vendor" and answers is not None and not slot.errors:
        slot.note = _vendor_note(answers.site_data.get("vendor", ""))
    return slot


class WizardMixin(OrganisationMixin):
    permission = permissions.can_edit_sites

    def answers(self) -> wizard.Answers:
        return wizard.read_answers(self.request.POST, organisation=self.organisation)

    def posted_step(self) -> wizard.WizardStep | None:
        return wizard.step_named(self.request.POST.get(STEP_FIELD))

    def site_preview(self, answers: wizard.Answers | None) -> wizard.Preview | None:
        if answers is None or answers.description is None:
            return None
        profile = ServiceProfile.objects.default().as_spec()
        return wizard.preview(answers.description, profile)

    def preview_context(self, answers, step) -> dict:
        """The preview panel: the rules, or what still stands in their way."""
        preview = self.site_preview(answers)
        pending = []
        if preview is None and answers is not None:
            pending = [
                (wizard.step_of(key), wizard.slot_label(wizard.slot_of(key)))
                for key in answers.errors
                if key not in SiteForm.RECORD_FIELDS  # they do not change the rules
            ]
        groups = []
        if preview is not None:
            vendor = vendor_display_name(answers.description.vendor)
            groups = [
                (f"On the firewall ({vendor})", preview.firewall_rules),
                ("On the backup host", preview.host_rules),
            ]
        return {
            "preview": preview,
            "preview_groups": groups,
            "pending": sorted({(s.number, s.title, label) for s, label in pending}),
            "compact": step is not None,
        }

    def earlier_errors(self, answers, step) -> list:
        """Errors in the steps before ``step``: an answer here can make an earlier one wrong
        (remote monitoring needs the backup host's fixed address)."""
        if answers is None or step is None:
            return []
        found = []
        for earlier in wizard.STEPS[: step.number - 1]:
            slots = answers.errors_of(earlier)
            if slots:
                problems = [(wizard.slot_label(k), m) for k, ms in slots.items() for m in ms]
                found.append((earlier, problems))
        return found


class SiteWizardView(WizardMixin, SiteCreateView):
    """The wizard's pages. A POST without ``wizard_step`` is the one-page form's (which lives at
    ``sites/new/form/``) and is handled as before, so nothing that posted it breaks."""

    def get(self, request, *args, **kwargs):
        return self.render_step(None, wizard.STEPS[0])

    def post(self, request, *args, **kwargs):
        if STEP_FIELD not in request.POST:
            return super().post(request, *args, **kwargs)
        answers = self.answers()
        here = request.POST[STEP_FIELD]
        if here not in wizard.ORDER:
            here = wizard.STEP_SLUGS[0]
        go = request.POST.get("go", "next")
        from_review = here == wizard.REVIEW or "from_review" in request.POST
        if go == "confirm":
            return self.confirm(answers)
        if go == "add-interface" and here == "monitoring":
            return self.render_step(
                answers, wizard.step_named(here), extra_rows=1, from_review=from_review
            )
        position = wizard.ORDER.index(here)
        if go == "back":
            target = wizard.ORDER[max(position - 1, 0)]
        elif go in wizard.ORDER:
            target = go
        else:
            target = wizard.ORDER[min(position + 1, len(wizard.ORDER) - 1)]
        if wizard.ORDER.index(target) > position or target == wizard.REVIEW:
            # Forward: every step before the target must hold up, whatever the earlier pages said.
            blocking = answers.first_invalid_step(before=target)
            if blocking is not None:
                return self.render_step(
                    answers, blocking, show_errors=True, from_review=from_review
                )
        if target == wizard.REVIEW:
            return self.render_review(answers)
        return self.render_step(answers, wizard.step_named(target), from_review=from_review)

    def confirm(self, answers: wizard.Answers):
        blocking = answers.first_invalid_step()  # every error belongs to a step
        if blocking is not None:
            return self.render_step(answers, blocking, show_errors=True, from_review=True)
        try:
            site = site_services.create_site(
                organisation=self.organisation, data=answers.site_data, reverify=answers.reverify
            )
        except ServiceError as error:
            answers = answers.with_errors(error.errors)
            blocking = answers.first_invalid_step() or wizard.STEPS[0]
            return self.render_step(answers, blocking, show_errors=True, from_review=True)
        messages.success(
            self.request, f"Site “{site.name}” created; its instructions are being prepared."
        )
        return redirect("site-detail", org_slug=self.organisation.slug, site_pk=site.pk)

    # --- pages --------------------------------------------------------------------------------

    def display_forms(self, answers, extra_rows=0):
        """Unbound forms showing the answers as typed; the errors shown are the wizard's own."""
        if answers is None:
            return SiteForm(), HostInterfaceFormSet(prefix=wizard.INTERFACE_PREFIX)
        rows = answers.interface_rows()
        rows += [{}] * min(extra_rows, HostInterfaceFormSet.max_num - len(rows))
        return (
            SiteForm(initial=answers.values()),
            HostInterfaceFormSet(initial=rows or None, prefix=wizard.INTERFACE_PREFIX),
        )

    def render_step(self, answers, step, *, show_errors=False, extra_rows=0, from_review=False):
        form, formset = self.display_forms(answers, extra_rows)
        errors = answers.errors_of(step) if (answers is not None and show_errors) else {}
        check_url = reverse("site-wizard-check", args=[self.organisation.slug])
        questions = []
        for question in step.questions:
            slot = _slot(answers, question.field, errors)
            if question.field == wizard.INTERFACES:
                rows = []
                for n, row in enumerate(formset.forms):
                    cells = []
                    for name in wizard.INTERFACE_FIELDS:
                        cell = _slot(answers, f"{wizard.INTERFACES}.{n}.{name}", errors)
                        _make_live(row.fields[name].widget, cell, check_url)
                        cells.append((row[name], cell))
                    rows.append(cells)
                questions.append(QuestionView(question, slot, rows=rows))
                continue
            why = f"why_{question.field}"
            _make_live(form.fields[question.field].widget, slot, check_url, why=why)
            questions.append(QuestionView(question, slot, field=form[question.field]))
        shown = {q.question.field for q in questions} | {
            cell.key for q in questions for row in q.rows for _, cell in row
        }
        context = self.get_context_data(
            step=step,
            stepper=_stepper(step.slug),
            questions=questions,
            hidden=[form[name] for name in form.fields if name not in step.fields],
            formset=formset,
            interfaces_shown=wizard.INTERFACES in step.fields,
            non_field_errors=[
                f"{wizard.slot_label(key)}: {m}" if key else m
                for key, ms in errors.items() if key not in shown for m in ms
            ],
            show_errors=bool(errors),
            earlier=self.earlier_errors(answers, step),
            from_review=from_review,
            is_last_step=step is wizard.STEPS[-1],
            can_add_interface=len(formset.forms) < HostInterfaceFormSet.max_num,
            **self.preview_context(answers, step),
        )
        return render(self.request, TEMPLATE, context, status=UNPROCESSABLE if errors else 200)

    def render_review(self, answers):
        form, formset = self.display_forms(answers)
        context = self.get_context_data(
            step=None,
            review=True,
            stepper=_stepper(wizard.REVIEW),
            summary=wizard.summary(answers),
            interfaces=answers.site_data.get("host_interfaces", []),
            firewall_interface=answers.site_data.get("firewall_interface", ""),
            hidden=[form[name] for name in form.fields],
            formset=formset,
            interfaces_shown=False,
            **self.preview_context(answers, None),
        )
        return render(self.request, TEMPLATE, context)


def _make_live(widget, slot: Slot, check_url: str, why: str = "") -> None:
    """Check the answer as it is typed: the slot gets the server's verdict (htmx)."""
    widget.attrs.update({
        "hx-post": f"{check_url}?field={slot.key}",
        "hx-trigger": LIVE_TRIGGER,
        "hx-target": f"#{slot.dom_id}",
        "hx-swap": "innerHTML",
        # One check at a time, in order: each answer refreshes the step's other answered slots,
        # so the last one to arrive must be the latest.
        "hx-sync": "closest form:queue all",
        "aria-describedby": f"{slot.dom_id} {why}".strip(),
    })
    if slot.errors:
        widget.attrs["aria-invalid"] = "true"


def _stepper(current: str) -> list[dict]:
    position = wizard.ORDER.index(current)
    titles = {s.slug: s.title for s in wizard.STEPS} | {wizard.REVIEW: "Review and confirm"}
    return [
        {
            "slug": slug,
            "number": n + 1,
            "title": titles[slug],
            "state": "done" if n < position else "current" if n == position else "upcoming",
        }
        for n, slug in enumerate(wizard.ORDER)
    ]


class SiteWizardCheckView(WizardMixin, View):
    """One question's verdict as it is typed (htmx): 422 with its errors, or 200 when right.

    Cross-field checks show on the field they concern: the other questions of the same step that
    already have an answer get their slot refreshed out of band (fixing the LAN network clears
    the host address's "not inside the LAN"), and so does the note about earlier steps.
    """

    def post(self, request, *args, **kwargs):
        key = request.GET.get("field", "")
        if not wizard.is_slot(key):
            message = f"Unknown question {key!r}." if key else "Say which question to check."
            slot = Slot("field", [message])
            return render(request, f"{TEMPLATE}#slot", {"slot": slot}, status=UNPROCESSABLE)
        answers = self.answers()
        step = self.posted_step() or wizard.step_of(key)
        errors = {wizard.slot_of(k): [] for k in answers.errors}
        for k, ms in answers.errors.items():
            errors[wizard.slot_of(k)].extend(ms)
        main = _slot(answers, key, errors)
        others = [_slot(answers, other, errors) for other in _answered_slots(request.POST, step)]
        for other in others:
            other.oob = True
        others = [other for other in others if other.key != key]
        context = {
            "slot": main,
            "others": others,
            "earlier": self.earlier_errors(answers, step),
            "earlier_oob": True,
            "organisation": self.organisation,
        }
        status = UNPROCESSABLE if main.errors else 200
        return render(request, f"{TEMPLATE}#check", context, status=status)


def _answered_slots(data, step: wizard.WizardStep) -> list[str]:
    """The step's questions (and interface cells) that have an answer in ``data``."""
    slots = []
    for name in step.fields:
        if name == wizard.INTERFACES:
            for n in range(HostInterfaceFormSet.max_num):
                for cell in wizard.INTERFACE_FIELDS:
                    key = f"{wizard.INTERFACES}.{n}.{cell}"
                    if data.get(wizard.slot_input_name(key), "").strip():
                        slots.append(key)
        elif data.get(name, "").strip():
            slots.append(name)
    return slots


class SiteWizardPreviewView(WizardMixin, View):
    """The live preview of the rules the answers so far derive (htmx): 200 with the rules, or
    422 naming the answers that stand in the way."""

    def post(self, request, *args, **kwargs):
        answers = self.answers()
        step = self.posted_step()
        context = {"organisation": self.organisation, **self.preview_context(answers, step)}
        status = 200 if context["preview"] is not None else UNPROCESSABLE
        return render(request, f"{TEMPLATE}#preview_body", context, status=status)
