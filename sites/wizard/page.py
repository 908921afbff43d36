"""What one page of the wizard shows: its questions with their error slots, the stepper, the
problems of earlier steps, and the live checks the inputs carry (htmx)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from sites.forms import HostInterfaceFormSet, SiteForm
from sites.site_fields import FieldInfo
from sites.vendors import RENDERERS
from sites.wizard.answers import Answers
from sites.wizard.steps import (
    INTERFACE_PARTS,
    INTERFACE_PREFIX,
    INTERFACES,
    ORDER,
    REVIEW,
    STEPS,
    WizardStep,
    slot_dom_id,
    slot_input_name,
    slot_label,
    when_attr,
)

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
        return slot_dom_id(self.key)

    @property
    def label(self) -> str:
        return slot_label(self.key)


@dataclass
class QuestionView:
    question: FieldInfo
    slot: Slot
    field: object = None  # the bound field; None for the interface rows
    rows: list = dataclass_field(default_factory=list)  # interface rows: [(bound field, slot), …]

    @property
    def kind(self) -> str:
        if self.question.name == INTERFACES:
            return "interfaces"
        return {"checkbox": "checkbox", "radio": "radio"}.get(self.field.widget_type, "input")

    @property
    def why_id(self) -> str:
        return f"why_{self.question.name}"

    @property
    def when_attr(self) -> str:
        return when_attr(self.question)

    @property
    def invalid(self) -> bool:
        return bool(self.slot.errors) or any(slot.errors for row in self.rows for _, slot in row)


def _vendor_note(slug: str) -> str:
    renderer = RENDERERS.get(slug)
    if renderer is None or not renderer.describes_firewall:
        return ""
    return f"The instructions are written for {renderer.versions}."


def slot(answers: Answers | None, key: str, errors: dict) -> Slot:
    """The slot ``key`` with its errors (and, for a valid firewall, which versions it covers)."""
    found = Slot(key, errors.get(key, []))
    if key == "vendor" and answers is not None and not found.errors:
        found.note = _vendor_note(answers.site_data.get("vendor", ""))
    return found


def display_forms(answers: Answers | None, extra_rows: int = 0):
    """Unbound forms showing the answers as typed; the errors shown are the wizard's own."""
    if answers is None:
        return SiteForm(), HostInterfaceFormSet(prefix=INTERFACE_PREFIX)
    rows = answers.interface_rows()
    rows += [{}] * min(extra_rows, HostInterfaceFormSet.max_num - len(rows))
    return (
        SiteForm(initial=answers.values()),
        HostInterfaceFormSet(initial=rows or None, prefix=INTERFACE_PREFIX),
    )


def questions(
    step: WizardStep, answers: Answers | None, form, formset, errors: dict, check_url: str
) -> list[QuestionView]:
    """The step's questions, each bound to its input and error slot, checked live as typed."""
    result = []
    for question in step.questions:
        main = slot(answers, question.name, errors)
        if question.name == INTERFACES:
            rows = []
            for n, row in enumerate(formset.forms):
                cells = []
                for name in INTERFACE_PARTS:
                    cell = slot(answers, f"{INTERFACES}.{n}.{name}", errors)
                    _make_live(row.fields[name].widget, cell, check_url)
                    cells.append((row[name], cell))
                rows.append(cells)
            result.append(QuestionView(question, main, rows=rows))
            continue
        why = f"why_{question.name}"
        _make_live(form.fields[question.name].widget, main, check_url, why=why)
        result.append(QuestionView(question, main, field=form[question.name]))
    return result


def _make_live(widget, slot: Slot, check_url: str, why: str = "") -> None:
    """Check the answer as it is typed: the slot gets the server's verdict (htmx)."""
    widget.attrs.update(
        {
            "hx-post": f"{check_url}?field={slot.key}",
            "hx-trigger": LIVE_TRIGGER,
            "hx-target": f"#{slot.dom_id}",
            "hx-swap": "innerHTML",
            # One check at a time, in order: each answer refreshes the step's other answered slots,
            # so the last one to arrive must be the latest.
            "hx-sync": "closest form:queue all",
            "aria-describedby": f"{slot.dom_id} {why}".strip(),
        }
    )
    if slot.errors:
        widget.attrs["aria-invalid"] = "true"


def stepper(current: str) -> list[dict]:
    position = ORDER.index(current)
    titles = {s.slug: s.title for s in STEPS} | {REVIEW: "Review and confirm"}
    return [
        {
            "slug": slug,
            "number": n + 1,
            "title": titles[slug],
            "state": "done" if n < position else "current" if n == position else "upcoming",
        }
        for n, slug in enumerate(ORDER)
    ]


def earlier_errors(answers: Answers | None, step: WizardStep | None) -> list:
    """Errors in the steps before ``step``: an answer here can make an earlier one wrong
    (remote monitoring needs the backup host's fixed address)."""
    if answers is None or step is None:
        return []
    found = []
    for earlier in STEPS[: step.number - 1]:
        slots = answers.errors_of(earlier)
        if slots:
            problems = [(slot_label(k), m) for k, ms in slots.items() for m in ms]
            found.append((earlier, problems))
    return found


def answered_slots(data, step: WizardStep) -> list[str]:
    """The step's questions (and interface cells) that have an answer in ``data``."""
    slots = []
    for name in step.fields:
        if name == INTERFACES:
            for n in range(HostInterfaceFormSet.max_num):
                for cell in INTERFACE_PARTS:
                    key = f"{INTERFACES}.{n}.{cell}"
                    if data.get(slot_input_name(key), "").strip():
                        slots.append(key)
        elif data.get(name, "").strip():
            slots.append(name)
    return slots
