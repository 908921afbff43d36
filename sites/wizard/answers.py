"""The wizard's answers: read from a post, validated as a whole, carried between steps.

The wizard keeps no state on the server: every step posts every answer given so far (the other
steps' answers travel as hidden inputs), so Back, Change and reloads never lose anything, and
nothing is stored until the review is confirmed (``create_site``). Validation is the site form's
and the site description's (``SiteForm``, ``SiteDescription.from_dict``), always run over *all*
the answers; a step shows only the errors of its own fields, and moving on needs every earlier
step to be clean again, so a tampered hidden input is caught wherever it travels. The service
validates everything once more on confirm.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from sites.description import DescriptionError, SiteDescription
from sites.forms import HostInterfaceFormSet, SiteForm, interfaces_of
from sites.services.sites import NAME_TAKEN, name_taken
from sites.wizard.steps import (
    INTERFACE_PARTS,
    INTERFACE_PREFIX,
    INTERFACES,
    ORDER,
    REVIEW,
    STEPS,
    WizardStep,
    slot_of,
    step_of,
)


@dataclass
class Answers:
    """Every answer posted so far, validated as a whole.

    ``errors`` holds every problem, keyed as the description keys them; ``site_data`` is the
    site file the service takes; ``description`` is set when the answers make a valid site
    description (the preview needs it), even if something else is still wrong (a taken name).
    """

    form: SiteForm
    formset: object
    errors: dict[str, list[str]]
    site_data: dict
    description: SiteDescription | None

    @property
    def reverify(self) -> str:
        return self.form.cleaned_data.get("reverify", "")

    def errors_of(self, step: WizardStep) -> dict[str, list[str]]:
        """This step's errors by slot (``monitoring_sources.1`` shows on ``monitoring_sources``)."""
        slots: dict[str, list[str]] = {}
        for key, messages in self.errors.items():
            if step_of(key) is step:
                slots.setdefault(slot_of(key), []).extend(messages)
        return slots

    def first_invalid_step(self, before: str = REVIEW) -> WizardStep | None:
        """The first step before ``before`` (a step's slug, or the review) that has an error."""
        for step in STEPS[: ORDER.index(before)]:
            if self.errors_of(step):
                return step
        return None

    def with_errors(self, errors: dict[str, list[str]]) -> Answers:
        """The same answers with more errors (the service's, on confirm)."""
        merged = {key: list(messages) for key, messages in self.errors.items()}
        for key, messages in errors.items():
            merged.setdefault(key, []).extend(m for m in messages if m not in merged[key])
        return Answers(self.form, self.formset, merged, self.site_data, self.description)

    def values(self) -> dict:
        """The answers as typed (not cleaned), to show them again."""
        return {name: self.form[name].value() for name in self.form.fields}

    def interface_rows(self) -> list[dict]:
        return [
            {name: form[name].value() for name in INTERFACE_PARTS} for form in self.formset.forms
        ]


def read_answers(data, *, organisation) -> Answers:
    """Validate every posted answer: the form's own checks, then the site description's.

    A field that fails the form's check (a wrong choice, too long) counts as blank for the
    description, and keeps the form's message only. The site's name is checked against the
    organisation's other sites, as the service does on create.
    """
    form = SiteForm(data)
    formset = HostInterfaceFormSet(data, prefix=INTERFACE_PREFIX)
    form.is_valid()
    formset.is_valid()
    errors: dict[str, list[str]] = {name: list(messages) for name, messages in form.errors.items()}
    for n, row_errors in enumerate(formset.errors):
        for name, messages in row_errors.items():
            errors[f"{INTERFACES}.{n}.{name}"] = list(messages)
    if formset.non_form_errors():
        errors[INTERFACES] = list(formset.non_form_errors())

    # to_data reads cleaned_data: fill the fields that failed with their blank value.
    blanks = {name: f.to_python(None) for name, f in form.fields.items()}
    form.cleaned_data = {**blanks, **form.cleaned_data}
    site_data = form.to_data(interfaces_of(formset))

    description = None
    try:
        description = SiteDescription.from_dict(
            site_data, allow_private=settings.SITE_ALLOW_LAB_ADDRESSES
        )
    except DescriptionError as error:
        for key, messages in error.errors.items():
            if key in errors or key.split(".")[0] in form.errors:
                continue  # the form already said what is wrong with it
            errors.setdefault(key, []).extend(messages)
    if description is not None and set(form.errors) - set(SiteForm.RECORD_FIELDS):
        description = None  # built from blanks standing in for bad answers: no preview of it
    name = site_data.get("name", "").strip()
    if name and "name" not in errors and name_taken(organisation, name):
        errors["name"] = [NAME_TAKEN]
    return Answers(form, formset, errors, site_data, description)
