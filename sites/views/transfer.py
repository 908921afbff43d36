"""Importing sites from a CSV or JSON file (with a dry run), and exporting them in the same formats."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View

from portal.accounts import permissions
from portal.accounts.models import Organisation
from portal.accounts.permissions import can_edit_sites_below
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, add_service_error
from portal.core.tenancy import OrganisationMixin
from sites.selectors.dashboard import filtered_sites
from sites.selectors.sites import editable_customers, sites_for_export
from sites.services import transfer
from sites.services.exports import record_sites_export

FORMAT_CHOICES = [("", "From the file name"), ("csv", "CSV"), ("json", "JSON")]


class SiteImportForm(forms.Form):
    """The file, uploaded or pasted (or, after a dry run, its content carried in the page), where
    it goes, and what to do: check it, import it all, or import only its clean rows."""

    organisation = forms.ModelChoiceField(
        queryset=None,  # set per request: the organisations the person may import into
        to_field_name="slug",
        label="Client organisation",
        empty_label="Choose the organisation the sites belong to",
    )
    file = forms.FileField(
        required=False,
        label="Site file",
        help_text=f"CSV or JSON, at most {transfer.MAX_IMPORT_ROWS:,} sites.",
    )
    paste = forms.CharField(
        required=False,
        strip=False,
        label="Or paste the rows",
        help_text="CSV with its header line, or a JSON list, e.g. copied from a spreadsheet "
        "saved as CSV.",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
    )
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False, label="Format")
    content = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("check", "Check"), ("import", "Import"), ("import_clean", "Import clean rows")],
        required=False,
        widget=forms.HiddenInput,
    )  # the pressed button; a check by default
    # With "import_clean": how many clean rows the dry run showed (nothing else is imported).
    expected_rows = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean(self):
        data = super().clean()
        upload, pasted, content = data.get("file"), data.get("paste"), data.get("content")
        if pasted is not None and not pasted.strip():
            pasted = ""
        if upload is not None and pasted:
            self.add_error("paste", "Upload a file or paste the rows, not both.")
            return data
        if upload is None and not pasted and not content:
            self.add_error("file", "Choose a CSV or JSON file, or paste the rows below.")
            return data
        if data.get("action") == "import_clean" and not data.get("expected_rows"):
            self.add_error(
                None,
                "Check the file first: importing only its clean rows is a choice "
                "made after seeing its problems.",
            )
            return data
        if upload is not None:
            if upload.size > transfer.MAX_IMPORT_BYTES:
                self.add_error("file", self._too_large())
                return data
            try:
                data["text"] = transfer.decode(upload.read())
            except transfer.ImportRefused as refused:
                self.add_error("file", refused.problems[0].message)
                return data
            name = upload.name
        else:
            data["text"], name = pasted or content, ""
            if len(data["text"].encode()) > transfer.MAX_IMPORT_BYTES:
                self.add_error("paste" if pasted else "file", self._too_large())
                return data
        data["fmt"] = data.get("format") or transfer.detect_format(data["text"], name)
        return data

    @staticmethod
    def _too_large() -> str:
        return f"The file is larger than {transfer.MAX_IMPORT_BYTES // 1_000_000} MB: split it."


class SiteImportView(OrganisationMixin, TemplateView):
    """Upload or paste → dry run (every bad row by line and field, nothing saved) → import.

    "Check" runs the dry run; the file is carried in the page so that importing needs no second
    upload. "Import" checks again and creates every site in one transaction, or none. When only
    some rows have problems, the dry run also offers to import just the clean rows: an explicit
    choice for that number of rows, whose result lists every row left out and why.
    """

    permission = can_edit_sites_below
    template_name = "sites/import.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(csv_format=transfer.CsvFormat(), **kwargs)

    def organisations(self):
        return editable_customers(self.request.actor, self.organisation)

    def form(self, data=None, files=None):
        initial = {"organisation": self.organisation.slug} if self.organisation.is_customer else {}
        initial["organisation"] = self.request.GET.get("organisation", initial.get("organisation"))
        return SiteImportForm(data, files, organisations=self.organisations(), initial=initial)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=UNPROCESSABLE)
        organisation, text, fmt = (form.cleaned_data[k] for k in ("organisation", "text", "fmt"))
        action = form.cleaned_data["action"]
        try:
            if action == "import_clean":
                return self.import_clean_rows(form, organisation, text, fmt)
            if action != "import":
                return self.dry_run(form, organisation, text, fmt)
            created = transfer.import_sites(organisation=organisation, text=text, fmt=fmt)
        except transfer.ImportRefused as refused:
            return self.refused(form, organisation, text, fmt, refused.problems)
        except ServiceError as error:
            add_service_error(form, error)
            return self.render_to_response(self.get_context_data(form=form), status=UNPROCESSABLE)
        messages.success(
            request,
            f"{len(created)} site{'s' if len(created) != 1 else ''} imported into {organisation.name}; "
            "their instructions are being prepared.",
        )
        return redirect(self.dashboard_url(organisation))

    def dashboard_url(self, organisation) -> str:
        query = urlencode({"organisation": organisation.slug, "sort": "-updated"})
        return f"{reverse('site-list', args=[self.organisation.slug])}?{query}"

    def carried(self, organisation, text: str, fmt: str, action: str, **extra) -> SiteImportForm:
        """A form carrying the checked file in the page, for the next button."""
        return SiteImportForm(
            organisations=self.organisations(),
            initial={
                "organisation": organisation.slug,
                "content": text,
                "format": fmt,
                "action": action,
                **extra,
            },
        )

    def dry_run(self, form, organisation, text, fmt):
        check = transfer.check_import(organisation=organisation, text=text, fmt=fmt)
        context = {
            "form": form,
            "checked": organisation,
            "problems": check.problems,
            "check": check,
        }
        if check.ok:
            context["confirm_form"] = self.carried(organisation, text, fmt, "import")
        elif check.can_skip_bad_rows:
            context["clean_rows_form"] = self.carried(
                organisation, text, fmt, "import_clean", expected_rows=len(check.rows)
            )
        status = 200 if check.ok else UNPROCESSABLE
        return self.render_to_response(self.get_context_data(**context), status=status)

    def refused(self, form, organisation, text, fmt, problems):
        """Nothing was imported: the problems, and (when they are rows' own) the offer to import
        only the clean rows, as after a dry run."""
        check = transfer.check_import(organisation=organisation, text=text, fmt=fmt)
        context = {"form": form, "checked": organisation, "problems": problems}
        if check.can_skip_bad_rows and check.problems == problems:
            context["check"] = check
            context["clean_rows_form"] = self.carried(
                organisation, text, fmt, "import_clean", expected_rows=len(check.rows)
            )
        return self.render_to_response(self.get_context_data(**context), status=UNPROCESSABLE)

    def import_clean_rows(self, form, organisation, text, fmt):
        """The person chose to import only the clean rows: the result page says how many sites
        were created and lists every row left out, with its problems."""
        outcome = transfer.import_clean_rows(
            organisation=organisation,
            text=text,
            fmt=fmt,
            expected_rows=form.cleaned_data["expected_rows"],
        )
        context = self.get_context_data(
            form=self.form(),
            outcome=outcome,
            checked=organisation,
            dashboard_url=self.dashboard_url(organisation),
        )
        return self.render_to_response(context)


# Request fields that say how to answer, not which sites: left out of the export's audit event.
_NOT_FILTERS = {"csrfmiddlewaretoken", "action", "format", "page"}


def export_filters(data) -> dict:
    """The dashboard's filter and selection in ``data`` (a QueryDict), as the audit event keeps
    them: one value per field, a list where several were given."""
    return {
        name: values if len(values) > 1 else values[0]
        for name, values in data.lists()
        if name not in _NOT_FILTERS and any(values)
    }


def export_response(sites, fmt: str, organisation: Organisation, *, filters: dict):
    """Download ``sites`` (any queryset of sites, already scoped) as CSV or JSON, streamed, after
    recording the export (``sites.exported``)."""
    record_sites_export(
        organisation=organisation, export_format=fmt, filters=filters, rows=sites.count()
    )
    rows = sites_for_export(sites)
    if fmt == "json":
        body, content_type = transfer.export_json(rows), "application/json"
    else:
        body, content_type = transfer.export_csv(rows), "text/csv"
    response = StreamingHttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="{organisation.slug}-sites-{stamp}.{fmt}"'
    )
    return response


class SiteExportView(OrganisationMixin, View):
    """GET: the sites matching the dashboard's filter (``?format=csv|json&vendor=…``), optionally
    only those named by ``site`` ids; a plain link, so read-only people can export too."""

    permission = permissions.can_view_organisation

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("format", "csv")
        if fmt not in transfer.FORMATS:
            return HttpResponse(
                "Unknown format: use csv or json.", status=400, content_type="text/plain"
            )
        selected = [int(v) for v in request.GET.getlist("site") if v.isdigit()]
        sites = filtered_sites(request.actor, self.organisation, request.GET, site_ids=selected)
        return export_response(sites, fmt, self.organisation, filters=export_filters(request.GET))
