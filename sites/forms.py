"""Forms for sites, rollout steps and service profiles.

The forms collect text; the services validate it against the domain (``SiteDescription``,
``ProfileSpec``) and answer with errors keyed by field, which ``apply_errors`` puts back on
the right input, including the rows of the host-interface formset (``host_interfaces.1.gateway``).
"""

from django import forms

from sites.models import StepState
from sites.models.profile import MAX_MONITORING_ACCESS_MONTHS
from sites.models.site import Reverify
from sites.site_fields import INTERFACE_FIELDS, REVERIFY, SECTIONS, FieldInfo, site_field
from sites.vendors import vendor_choices

# Blank host addresses are ``null`` in the site file, not "".
_OPTIONAL_ADDRESSES = ("public_address", "host_address", "host_range_start", "host_range_end")


def _lines(text: str) -> list[str]:
    return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


def _words(info: FieldInfo) -> dict:
    """A form field's label and help text, from the table of site fields."""
    return {"label": info.label, "help_text": info.help}


def _text(name: str, *, max_length: int = 45, required: bool = False, **kwargs) -> forms.CharField:
    return forms.CharField(
        required=required, max_length=max_length, **_words(site_field(name)), **kwargs
    )


def _choice(name: str, **kwargs) -> forms.ChoiceField:
    info = site_field(name)
    return forms.ChoiceField(choices=info.choices, **_words(info), **kwargs)


def _yes_no(name: str) -> forms.BooleanField:
    return forms.BooleanField(required=False, **_words(site_field(name)))


class SiteForm(forms.Form):
    """The site file as one page; its words come from ``sites.site_fields``."""

    name = _text("name", max_length=120, required=True)
    vendor = forms.ChoiceField(choices=(), **_words(site_field("vendor")))
    firmware = _text("firmware", max_length=60)
    inside_interface = _text("inside_interface", max_length=60)
    outside_interface = _text("outside_interface", max_length=60)
    public_address = _text("public_address")
    lan_network = _text("lan_network", required=True)
    lan_gateway = _text("lan_gateway", required=True)
    host_addressing = _choice("host_addressing", widget=forms.RadioSelect, initial="static")
    host_address = _text("host_address")
    host_range_start = _text("host_range_start")
    host_range_end = _text("host_range_end")
    dhcp_reservation_planned = _yes_no("dhcp_reservation_planned")
    monitoring_enabled = _yes_no("monitoring_enabled")
    monitoring_sources = _text(
        "monitoring_sources", max_length=None, widget=forms.Textarea(attrs={"rows": 2})
    )
    host_os = _choice("host_os", initial="windows")
    multi_homed = _yes_no("multi_homed")
    firewall_interface = _text("firewall_interface", max_length=60)
    reverify = forms.ChoiceField(
        choices=Reverify.choices, initial=Reverify.WEEKLY, **_words(REVERIFY)
    )

    # Fields about the site record, not its description (the site file).
    RECORD_FIELDS = (REVERIFY.name,)

    @property
    def sections(self) -> list[dict]:
        """The page's fieldsets, grouped as the wizard's steps: each title, its fields (names,
        space-separated) and whether the host's interface rows belong in it."""
        return [
            {
                "title": section.title,
                "fields": " ".join(
                    n for n in section.names if n in self.fields and n not in self.RECORD_FIELDS
                ),
                "interfaces": "host_interfaces" in section.names,
            }
            for section in SECTIONS
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = [("", "Choose your firewall…"), *vendor_choices()]

    @classmethod
    def initial_from(cls, description: dict) -> dict:
        initial = {key: value for key, value in description.items() if key in cls.base_fields}
        initial["monitoring_sources"] = "\n".join(description.get("monitoring_sources", []))
        for key in _OPTIONAL_ADDRESSES:
            initial[key] = initial.get(key) or ""
        return initial

    def to_data(self, interfaces: list[dict]) -> dict:
        """The site-file dict the services validate (docs/site-file.md)."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.RECORD_FIELDS}
        for key in _OPTIONAL_ADDRESSES:
            data[key] = data[key].strip() or None
        data["monitoring_sources"] = _lines(data["monitoring_sources"])
        data["host_interfaces"] = interfaces if data["multi_homed"] else []
        if not data["multi_homed"]:
            data["firewall_interface"] = ""
        return data


_INTERFACE_WORDS = {info.name: _words(info) for info in INTERFACE_FIELDS}


class HostInterfaceForm(forms.Form):
    name = forms.CharField(required=False, max_length=60, **_INTERFACE_WORDS["name"])
    index = forms.CharField(required=False, max_length=6, **_INTERFACE_WORDS["index"])
    address = forms.CharField(required=False, max_length=45, **_INTERFACE_WORDS["address"])
    network = forms.CharField(required=False, max_length=45, **_INTERFACE_WORDS["network"])
    gateway = forms.CharField(required=False, max_length=45, **_INTERFACE_WORDS["gateway"])

    def to_data(self) -> dict | None:
        values = {key: (self.cleaned_data.get(key) or "").strip() for key in self.fields}
        if not any(values.values()):
            return None  # an empty row
        index = values["index"]
        return {
            **values,
            "index": int(index) if index.isdigit() else index,
            "gateway": values["gateway"] or None,
        }


HostInterfaceFormSet = forms.formset_factory(HostInterfaceForm, extra=0, min_num=2, max_num=6)


def interfaces_of(formset) -> list[dict]:
    return [row for row in (form.to_data() for form in formset.forms) if row is not None]


def apply_errors(form, formset, errors: dict[str, list[str]]) -> None:
    """Put each ``field: messages`` from the domain on its input (formset rows included)."""
    for field, messages in errors.items():
        target, name = form, field
        if field.startswith("host_interfaces."):
            parts = field.split(".")
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(formset.forms):
                target, name = formset.forms[int(parts[1])], parts[2]
            else:
                name = "multi_homed"
        for message in messages:
            if name in target.fields:
                target.add_error(name, message)
            else:
                form.add_error(None, f"{field}: {message}" if field else message)


class StepStateForm(forms.Form):
    state = forms.ChoiceField(choices=StepState.choices)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ServiceProfileForm(forms.Form):
    name = forms.CharField(max_length=120)
    datacenter_networks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One network per line, e.g. 203.0.113.0/24.",
    )
    datacenter_fqdns = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Datacenter host names",
        help_text="Optional, one per line.",
    )
    outbound_ports = forms.CharField(
        help_text="Backup and restore, from the host out: e.g. “tcp 4401”, one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    monitoring_ports = forms.CharField(
        required=False,
        help_text="Remote monitoring, forwarded in: e.g. “tcp 4403” and “udp 4403”, one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    monitoring_access_months = forms.IntegerField(
        min_value=1,
        max_value=MAX_MONITORING_ACCESS_MONTHS,
        initial=12,
        label="Monitoring access period (months)",
        help_text="How long a site's monitoring access stays open before someone must recertify "
        "it; also the furthest a customer may set its end date.",
    )

    @staticmethod
    def initial_from(data: dict) -> dict:
        return {
            "name": data["name"],
            "datacenter_networks": "\n".join(data["datacenter_networks"]),
            "datacenter_fqdns": "\n".join(data["datacenter_fqdns"]),
            "outbound_ports": "\n".join(
                f"{p['protocol']} {p['port']}" for p in data["outbound_ports"]
            ),
            "monitoring_ports": "\n".join(
                f"{p['protocol']} {p['port']}" for p in data["monitoring_ports"]
            ),
        }

    def _ports(self, name):
        ports = []
        for n, line in enumerate(self.cleaned_data[name].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace("/", " ").split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise forms.ValidationError(
                    f"Line {n}: write a protocol and a port, e.g. “tcp 4401”."
                )
            ports.append({"protocol": parts[0].lower(), "port": int(parts[1])})
        return ports

    def clean_outbound_ports(self):
        self.cleaned_data["outbound_ports"] = self._ports("outbound_ports")
        return self.cleaned_data["outbound_ports"]

    def clean_monitoring_ports(self):
        self.cleaned_data["monitoring_ports"] = self._ports("monitoring_ports")
        return self.cleaned_data["monitoring_ports"]

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("monitoring_access_months", None)  # the profile row's, not the policy's
        data["datacenter_networks"] = _lines(data["datacenter_networks"])
        data["datacenter_fqdns"] = _lines(data["datacenter_fqdns"])
        return data
