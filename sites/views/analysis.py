"""Check my current configuration: paste or upload a firewall's export, follow the check live,
read its answer flow by flow with the deciding lines in context, and mark steps already in
place (issue #11). Writes go through ``sites.services.analysis``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.htmx import render_page_or_partial
from sites.analyzer.analyze import SUPPORTED_VENDORS
from sites.analyzer.limits import MAX_BYTES
from sites.models import ConfigAnalysis
from sites.selectors import rollout_step_for
from sites.selectors.analysis import config_analyses_of, config_analysis_for, probe_notes
from sites.services.analysis import analysable_vendors, mark_step_in_place, request_analysis
from sites.services.rollouts import StepReplaced
from sites.vendors import vendor_display_name
from sites.views.sites import SiteMixin

# A pasted configuration is a form field, which Django refuses past DATA_UPLOAD_MAX_MEMORY_SIZE
# (portal/settings.py: 6 MiB, so that the analyzer's 5 MB limit is the one a paste meets).
PASTE_HINT = "Up to 5 MB and 100,000 lines, pasted or as a file."


class ConfigAnalysisForm(forms.Form):
    vendor = forms.ChoiceField(label="Firewall", choices=())
    config = forms.CharField(
        label="Paste the configuration",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 12, "spellcheck": "false", "wrap": "off", "class": "config-paste"}
        ),
    )
    upload = forms.FileField(label="Or upload the file", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = analysable_vendors()

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {MAX_BYTES:,} bytes (5 MB)."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        pasted, upload = cleaned.get("config"), cleaned.get("upload")
        if pasted and pasted.strip() and upload is not None:
            self.add_error("config", "Paste the configuration or upload its file, not both.")
        elif not (pasted and pasted.strip()) and upload is None and "upload" not in self.errors:
            self.add_error("config", "Paste the configuration or choose its file.")
        return cleaned

    def content(self) -> tuple[str | bytes, str]:
        """The configuration and the uploaded file's name ("" when pasted)."""
        upload = self.cleaned_data.get("upload")
        if upload is not None:
            return upload.read(MAX_BYTES + 1), upload.name or ""
        return self.cleaned_data["config"], ""


class AnalysisPageMixin(SiteMixin):
    """The "Check my current configuration" page: the form (for those who may change the site)
    and the site's latest checks (for everyone who sees it)."""

    template_name = "sites/analysis/analysis_list.html"

    def initial_form(self) -> ConfigAnalysisForm:
        vendor = self.site.vendor if self.site.vendor in SUPPORTED_VENDORS else ""
        return ConfigAnalysisForm(initial={"vendor": vendor})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            analyses=list(config_analyses_of(self.site)),
            site_vendor_readable=self.site.vendor in SUPPORTED_VENDORS,
            site_vendor_name=vendor_display_name(self.site.vendor),
            paste_hint=PASTE_HINT,
        )
        return context


class AnalysisListView(AnalysisPageMixin, TemplateView):
    permission = permissions.can_view_organisation

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.initial_form()))


class AnalysisCreateView(AnalysisPageMixin, TemplateResponseMixin, ContextMixin, View):
    """Queue a check (a POST from the form); refused input comes back as the form with its
    field errors (422), nothing written."""

    permission = permissions.can_edit_sites

    def post(self, request, *args, **kwargs):
        form = ConfigAnalysisForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.refused(form)
        config, source_name = form.content()
        try:
            analysis = request_analysis(
                site=self.site,
                vendor=form.cleaned_data["vendor"],
                config=config,
                source_name=source_name,
                by=request.user,
            )
        except ServiceError as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            return self.refused(form)
        return redirect(
            "analysis-detail",
            org_slug=self.organisation.slug,
            site_pk=self.site.pk,
            analysis_pk=analysis.pk,
        )

    def refused(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=UNPROCESSABLE)


class AnalysisDetailView(SiteMixin, TemplateView):
    """One check: its state, polled every second while it is queued or analysing (286 when it
    settles, with the result), then the verdicts flow by flow."""

    permission = permissions.can_view_organisation
    template_name = "sites/analysis/analysis_detail.html"

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.analysis = config_analysis_for(self.site, kwargs["analysis_pk"])

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return render_page_or_partial(
            request, self.template_name, "status", context, stop_polling=not self.analysis.is_open
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        analysis = self.analysis
        context.update(analysis=analysis, vendor_name=vendor_display_name(analysis.vendor))
        if analysis.state == "done":
            context.update(
                flows=flow_rows(analysis),
                counts=_counts(analysis),
                notes=probe_notes(self.site, analysis),
                steps_in_place=analysis.details.get("steps_in_place", []),
                adjusted_steps=analysis.details.get("adjusted_steps", []),
                unrecognised_hidden=analysis.details.get("unrecognised_total", 0)
                - len(analysis.result.get("unrecognised", [])),
                other_vendor=analysis.vendor != self.site.vendor,
            )
        return context


def _counts(analysis: ConfigAnalysis) -> dict[str, int]:
    details = analysis.details.get("flows", [])
    return {
        "total": len(details),
        "as_required": sum(d["as_required"] is True for d in details),
        "unknown": sum(f["verdict"] == "unknown" for f in analysis.result.get("flows", [])),
    }


def flow_rows(analysis: ConfigAnalysis) -> list[dict[str, Any]]:
    """One row per flow: the analyzer's answer, what the guide needs of it, and the deciding lines
    in context (the kept excerpt around each cited line, the cited ones marked with their effect).
    Implicit rules (line 0) are listed apart: no line of the file states them."""
    rows = []
    excerpts = {int(n): text for n, text in analysis.excerpts.items()}
    for flow, details in zip(
        analysis.result.get("flows", []), analysis.details.get("flows", []), strict=False
    ):
        cited = {line["line"]: line for line in flow["lines"] if line["line"] > 0}
        rows.append(
            {
                **flow,
                **details,
                "blocks": _blocks(cited, excerpts),
                "implicit": [line for line in flow["lines"] if line["line"] <= 0],
                "cited_numbers": sorted(cited),
                "untranslated": flow["verdict"] == "allowed"
                and 2 in details.get("guide_rules", [])
                and not flow["translated_source"],
            }
        )
    return rows


def _blocks(cited: dict[int, dict], excerpts: dict[int, str]) -> list[list[dict[str, Any]]]:
    """Runs of consecutive kept lines around the cited ones."""
    blocks: list[list[dict[str, Any]]] = []
    near = {n for n in excerpts if any(abs(n - c) <= 2 for c in cited)}
    numbers = sorted(near | set(cited))  # without excerpts (nft -j): the cited lines alone
    for number in numbers:
        line = cited.get(number)
        row = {
            "number": number,
            "text": line["text"] if line else excerpts.get(number, ""),
            "effect": line["effect"] if line else "",
        }
        if blocks and blocks[-1][-1]["number"] == number - 1:
            blocks[-1].append(row)
        else:
            blocks.append([row])
    return blocks


class AnalysisMarkStepView(SiteMixin, View):
    """Mark a rollout step done with the check's evidence as its note (the customer's choice)."""

    permission = permissions.can_edit_sites

    def load_objects(self, **kwargs) -> None:
        super().load_objects(**kwargs)
        self.analysis = config_analysis_for(self.site, kwargs["analysis_pk"])
        self.step = rollout_step_for(self.site, kwargs["step_pk"])

    def post(self, request, *args, **kwargs):
        try:
            mark_step_in_place(analysis=self.analysis, step=self.step, by=request.user)
        except StepReplaced:
            messages.error(request, "These instructions were replaced by a newer version.")
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Step {self.step.position} marked done: already in place.")
        url = reverse("site-detail", args=[self.organisation.slug, self.site.pk])
        return redirect(f"{url}#step-{self.step.position}")
