"""Forms for sites, rollout steps and service profiles.

The forms collect text; the services validate it against the domain (``SiteDescription``,
``ProfileSpec``) and answer with errors keyed by field, which ``apply_errors`` puts back on
the right input, including the rows of the host-interface formset (``host_interfaces.1.gateway``).
"""
from django import forms

from sites.description import HOST_OS
from sites.models import StepState
from sites.models.site import Reverify
from sites.vendors import vendor_choices

HOST_OS_LABELS = {"windows": "Windows", "linux": "Linux", "macos": "macOS", "other": "Other"}
ADDRESSING_CHOICES = [
    ("static", "A fixed address"),
    ("range", "One of a range of addresses (several backup hosts)"),
    ("dhcp", "An address from DHCP"),
]


def _lines(text: str) -> list[str]:
    return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


class SiteForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How you call this site, e.g. “Main office”.")
    vendor = forms.ChoiceField(label="Firewall", choices=(), help_text="Your firewall's make; the instructions use its own menus and syntax.")
    firmware = forms.CharField(required=False, max_length=60, label="Firmware version", help_text="As the firewall shows it, e.g. 7.2.8. Optional.")
    inside_interface = forms.CharField(required=False, max_length=60, label="Inside (LAN) interface", help_text="The firewall's name for the LAN side, e.g. port2, X0, inside. Blank: the vendor's usual name.")
    outside_interface = forms.CharField(required=False, max_length=60, label="Outside (Internet) interface", help_text="The firewall's name for the Internet side, e.g. wan1, X1, outside.")
    public_address = forms.CharField(required=False, max_length=45, label="Public address", help_text="The firewall's Internet address. Leave blank if it changes (dynamic).")
    lan_network = forms.CharField(max_length=45, label="LAN network", help_text="The network the backup host is on, e.g. 192.168.1.0/24.")
    lan_gateway = forms.CharField(max_length=45, label="Firewall's LAN address", help_text="The default gateway of the LAN, e.g. 192.168.1.1.")
    host_addressing = forms.ChoiceField(label="The backup host has", choices=ADDRESSING_CHOICES, widget=forms.RadioSelect, initial="static", help_text="With a fixed address the rule can allow only that computer (guide: restriction).")
    host_address = forms.CharField(required=False, max_length=45, label="Backup host address", help_text="Required for a fixed address, and whenever remote monitoring is on.")
    host_range_start = forms.CharField(required=False, max_length=45, label="Range from")
    host_range_end = forms.CharField(required=False, max_length=45, label="Range to")
    dhcp_reservation_planned = forms.BooleanField(required=False, label="The host has (or will get) a DHCP reservation at the address above")
    monitoring_enabled = forms.BooleanField(required=False, label="Monitor the backup with the Java GUI from outside", help_text="Opens TCP and UDP 4403 (and TCP 4401) from outside to the backup host.")
    monitoring_sources = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Monitoring from", help_text="Addresses or networks the GUI connects from, one per line. Blank: from anywhere (not recommended).")
    host_os = forms.ChoiceField(label="Backup host's operating system", choices=[(o, HOST_OS_LABELS[o]) for o in HOST_OS], initial="windows")
    multi_homed = forms.BooleanField(required=False, label="The backup host has more than one network interface with a default gateway", help_text="Then replies may leave by the wrong interface; the instructions add persistent routes (guide: multi-homed Windows).")
    firewall_interface = forms.CharField(required=False, max_length=60, label="Host interface facing this firewall", help_text="The name of the interface below that connects to this firewall.")
    reverify = forms.ChoiceField(label="Renew the proof", choices=Reverify.choices, initial=Reverify.WEEKLY, help_text="After this long without a successful probe, the site is flagged as stale for you and your reseller.")

    # Fields about the site record, not its description (the site file).
    RECORD_FIELDS = ("reverify",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = [("", "Choose your firewall…"), *vendor_choices()]

    @classmethod
    def initial_from(cls, description: dict) -> dict:
        initial = {key: value for key, value in description.items() if key in cls.base_fields}
        initial["monitoring_sources"] = "\n".join(description.get("monitoring_sources", []))
        for key in ("public_address", "host_address", "host_range_start", "host_range_end"):
            initial[key] = initial.get(key) or ""
        return initial

    def to_data(self, interfaces: list[dict]) -> dict:
        """The site-file dict the services validate (docs/site-file.md)."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.RECORD_FIELDS}
        for key in ("public_address", "host_address", "host_range_start", "host_range_end"):
            data[key] = data[key].strip() or None
        data["monitoring_sources"] = _lines(data["monitoring_sources"])
        data["host_interfaces"] = interfaces if data["multi_homed"] else []
        if not data["multi_homed"]:
            data["firewall_interface"] = ""
        return data


class HostInterfaceForm(forms.Form):
    name = forms.CharField(required=False, max_length=60, help_text="e.g. Ethernet 1")
    index = forms.CharField(required=False, max_length=6, label="Index", help_text="ifIndex, from Get-NetAdapter")
    address = forms.CharField(required=False, max_length=45)
    network = forms.CharField(required=False, max_length=45, help_text="e.g. 192.168.1.0/24")
    gateway = forms.CharField(required=False, max_length=45)

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
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ServiceProfileForm(forms.Form):
    name = forms.CharField(max_length=120)
    datacenter_networks = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="One network per line, e.g. 203.0.113.0/24.")
    datacenter_fqdns = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Datacenter host names", help_text="Optional, one per line.")
    outbound_ports = forms.CharField(help_text="Backup and restore, from the host out: e.g. “tcp 4401”, one per line.", widget=forms.Textarea(attrs={"rows": 2}))
    monitoring_ports = forms.CharField(required=False, help_text="Remote monitoring, forwarded in: e.g. “tcp 4403” and “udp 4403”, one per line.", widget=forms.Textarea(attrs={"rows": 2}))

    @staticmethod
    def initial_from(data: dict) -> dict:
        return {
            "name": data["name"],
            "datacenter_networks": "\n".join(data["datacenter_networks"]),
            "datacenter_fqdns": "\n".join(data["datacenter_fqdns"]),
            "outbound_ports": "\n".join(f"{p['protocol']} {p['port']}" for p in data["outbound_ports"]),
            "monitoring_ports": "\n".join(f"{p['protocol']} {p['port']}" for p in data["monitoring_ports"]),
        }

    def _ports(self, name):
        ports = []
        for n, line in enumerate(self.cleaned_data[name].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace("/", " ").split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise forms.ValidationError(f"Line {n}: write a protocol and a port, e.g. “tcp 4401”.")
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
        data["datacenter_networks"] = _lines(data["datacenter_networks"])
        data["datacenter_fqdns"] = _lines(data["datacenter_fqdns"])
        return data
