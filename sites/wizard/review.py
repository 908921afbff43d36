"""The review page's summary of the answers: each step's relevant answers in words."""

from __future__ import annotations

from sites.vendors import vendor_display_name
from sites.wizard.answers import Answers
from sites.wizard.steps import INTERFACES, STEPS, WizardStep, is_relevant


def summary(answers: Answers) -> list[tuple[WizardStep, list[tuple[str, str]]]]:
    """Each step's relevant answers as (label, value) in words, for the review.

    The interfaces are shown as a table of their own, not in the summary.
    """
    data, form = answers.site_data, answers.form
    result = []
    for step in STEPS:
        rows = []
        for question in step.questions:
            if not is_relevant(question, data) or question.name == INTERFACES:
                continue
            form_field = form.fields[question.name]
            value = form.cleaned_data.get(question.name)
            if question.name == "vendor":
                text = vendor_display_name(value)
            elif question.name == "monitoring_sources":
                text = ", ".join(data.get("monitoring_sources") or [])
            elif isinstance(value, bool):
                text = "Yes" if value else "No"
            elif hasattr(form_field, "choices"):
                text = dict(form_field.choices).get(value, value)
            else:
                text = value or ""
            rows.append((question.review_label, str(text) or question.blank))
        result.append((step, rows))
    return result
