"""The step-by-step site wizard: its steps, each question in plain words with the guide's reason,
validation per step, and the preview of the rules a site will get.

The wizard keeps no state on the server: every step posts every answer given so far (the other
steps' answers travel as hidden inputs), so Back, Change and reloads never lose anything, and
nothing is stored until the review is confirmed (``create_site``). Validation is the site form's
and the site description's (``SiteForm``, ``SiteDescription.from_dict``), always run over *all*
the answers; a step shows only the errors of its own fields, and moving on needs every earlier
step to be clean again, so a tampered hidden input is caught wherever it travels. The service
validates everything once more on confirm.

Errors are keyed as the description keys them (``lan_network``, ``monitoring_sources.1``,
``host_interfaces.0.gateway``); :func:`slot_of` says which error slot on the page shows each one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sites.description import DescriptionError, ProfileSpec, SiteDescription
from sites.diagram import render_diagram
from sites.forms import HostInterfaceFormSet, SiteForm, interfaces_of
from sites.instructions import policy_as_dicts
from sites.services.sites import NAME_TAKEN, name_taken
from sites.policy import GuideRule, Rule, RuleKind, derive_rules
from sites.vendors import get_renderer, renderers_for_site, vendor_display_name
from sites.vendors.formats import rendered_as_dict

INTERFACE_PREFIX = "iface"  # the one-page form's prefix too, so both post the same names
INTERFACES = "host_interfaces"
INTERFACE_FIELDS = ("name", "index", "address", "network", "gateway")
REVIEW = "review"


@dataclass(frozen=True)
class Question:
    """One question of a step: a ``SiteForm`` field (or the host's interface rows).

    ``why`` says in plain words what to answer and why it matters; ``guide`` quotes the
    provider's firewall guide where it asks for this. ``when`` names the answer that makes the
    question relevant (``("host_addressing", "range")``); irrelevant questions are hidden on the
    page (while they are valid) and left out of the review.
    """

    field: str
    why: str
    guide: str = ""
    when: tuple[str, object] | None = None
    optional: bool = False
    short_label: str = ""  # for the review, where the form's label is a whole sentence

    @property
    def when_attr(self) -> str:
        """``data-when`` on the page, which the stylesheet uses to hide irrelevant questions."""
        if self.when is None:
            return ""
        name, value = self.when
        return name if value is True else f"{name}={value}"


@dataclass(frozen=True)
class WizardStep:
    slug: str
    title: str
    intro: str
    questions: tuple[Question, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(q.field for q in self.questions)

    @property
    def number(self) -> int:
        return STEP_SLUGS.index(self.slug) + 1


STEPS: tuple[WizardStep, ...] = (
    WizardStep(
        "firewall",
        "Site and firewall",
        "Which firewall stands between this site and the Internet. Each make has its own menus "
        "and commands; the instructions you get are written for yours.",
        (
            Question(
                "name",
                "A name you will recognise in your list of sites, e.g. “Main office” or "
                "“Warehouse”. Each site gets its own instructions and its own proof that the "
                "ports are open.",
            ),
            Question(
                "vendor",
                "The make of the firewall. The steps name its own menus and give configuration "
                "to paste in its own syntax. Not listed? Choose “Generic firewall”.",
                guide="“This will depend on the type of firewall you are using.”",
            ),
            Question(
                "firmware",
                "The version the firewall shows on its dashboard, e.g. 7.2.8. It is "
                "kept with the instructions, so whoever follows them knows which version they "
                "were written for.",
                optional=True,
            ),
            Question(
                "inside_interface",
                "The firewall's name for the port your office network (LAN) is plugged into, "
                "e.g. port2, X0, inside. The backup rule is allowed on this side. Blank: the "
                "vendor's usual name is assumed, and the instructions say so.",
                guide="“You must allow port 4401 for the TCP protocol for the inside network "
                "interface.”",
                optional=True,
            ),
            Question(
                "outside_interface",
                "The firewall's name for the port towards the Internet, e.g. wan1, X1, outside. "
                "The backup connection leaves through it and takes its address on the way out.",
                guide="“SecuriData’s Online Backup needs transparency for the connection with "
                "SecuriData’s datacenter.”",
                optional=True,
            ),
            Question(
                "public_address",
                "The firewall's address on the Internet. It matters for remote monitoring: the "
                "monitoring GUI connects to this address and the firewall forwards it to the "
                "backup host. Leave it blank if your Internet provider changes it.",
                optional=True,
            ),
        ),
    ),
    WizardStep(
        "network",
        "Network and backup host",
        "Where the backup host sits and how it gets its address. The backup software always "
        "starts the connection to the datacenter, so the rules are about traffic leaving this "
        "network; nothing has to be opened inbound for backup and restore.",
        (
            Question(
                "lan_network",
                "The office network the backup host is on, written with its size, e.g. "
                "192.168.1.0/24. Every address below must be inside it, and no rule ever opens "
                "more than this network.",
                guide="“The inside network is considered to be ‘trusted’, while the outside "
                "network is not.”",
            ),
            Question(
                "lan_gateway",
                "The firewall's own address on this network: the “default gateway” your "
                "computers use, e.g. 192.168.1.1. Traffic to the datacenter leaves through it.",
            ),
            Question(
                "host_addressing",
                "How the computer running the backup software gets its address. With a fixed "
                "address the rule lets only that computer out on the backup port; with a range, "
                "only those computers; with DHCP the address can change, so the whole network "
                "must be allowed unless the host has a DHCP reservation.",
                guide="“If you do not use DHCP for the Online Backup host computer … you can "
                "specify in the firewall that only the host computer's IP address can use port "
                "4401.”",
            ),
            Question(
                "host_address",
                "The backup host's IP address, e.g. 192.168.1.10. Needed for a fixed address, "
                "and whenever you monitor from outside, because the firewall forwards the "
                "monitoring ports to this one address. With DHCP: the reserved address.",
            ),
            Question(
                "host_range_start",
                "The first address of the backup hosts.",
                guide="“Depending on your firewall's configuration, you may even be able to set "
                "up a range of IP addresses.”",
                when=("host_addressing", "range"),
            ),
            Question(
                "host_range_end",
                "The last address of the backup hosts (included).",
                when=("host_addressing", "range"),
            ),
            Question(
                "dhcp_reservation_planned",
                "A DHCP reservation keeps the host at the address above, so the rule can name "
                "that one computer instead of the whole network. Tick it if the reservation "
                "exists or you will create it.",
                when=("host_addressing", "dhcp"),
                short_label="DHCP reservation",
            ),
            Question(
                "host_os",
                "The backup host's system. On Windows you also get the matching rule for the "
                "Windows firewall on the host itself, and the route commands for a host with "
                "several network cards.",
            ),
        ),
    ),
    WizardStep(
        "monitoring",
        "Remote monitoring and multi-homed host",
        "Two situations that need more than the outbound backup rule: watching the backup with "
        "the Java GUI from outside this network, and a backup host with more than one network "
        "card. If neither applies, just continue.",
        (
            Question(
                "monitoring_enabled",
                "Tick it if someone watches or controls the backup with the Java GUI from "
                "outside this network. The firewall then forwards TCP and UDP 4403 (and TCP "
                "4401) from its public address to the backup host. Leave it unticked if the "
                "GUI is only used inside the office: then nothing is opened inbound.",
                guide="“You must allow port 4403 (TCP and UDP) in addition to port 4401.”",
                short_label="Remote monitoring",
            ),
            Question(
                "monitoring_sources",
                "The addresses the GUI connects from, one per line, e.g. your office's "
                "198.51.100.7 or a network such as 198.51.100.0/24. Only they may reach the "
                "forwarded ports. Blank means from anywhere on the Internet, which is not "
                "recommended.",
                when=("monitoring_enabled", True),
                optional=True,
            ),
            Question(
                "multi_homed",
                "Tick it if the backup host has more than one network card, each with a default "
                "gateway. Replies could then leave by the wrong card, so the instructions add "
                "persistent routes through this firewall.",
                guide="“… then you must modify the routing table manually to include the network "
                "from which the host machine is connecting.”",
                short_label="Several network cards",
            ),
            Question(
                INTERFACES,
                "One row per network card, as Windows shows them (Get-NetAdapter or route "
                "print): its name, its interface index, its address, its network and its "
                "gateway.",
                when=("multi_homed", True),
            ),
            Question(
                "firewall_interface",
                "The name, as in the rows above, of the card that is plugged into this "
                "firewall's network. The routes go through it, and it keeps the only default "
                "gateway.",
                when=("multi_homed", True),
            ),
            Question(
                "reverify",
                "How often you want to prove again that the ports are open. Firewall updates "
                "and changes can quietly close them; after this long without a successful probe "
                "the site is flagged as stale for you and your reseller.",
            ),
        ),
    ),
)
STEP_SLUGS = tuple(step.slug for step in STEPS)
ORDER = (*STEP_SLUGS, REVIEW)  # what Continue and Back move through
_STEP_OF_FIELD = {name: step for step in STEPS for name in step.fields}
_QUESTIONS = {q.field: q for step in STEPS for q in step.questions}


def step_named(slug: str | None) -> WizardStep | None:
    return next((step for step in STEPS if step.slug == slug), None)


def slot_of(key: str) -> str:
    """The error slot that shows the error ``key``: its field, or its interface row's cell."""
    parts = key.split(".")
    if parts[0] == INTERFACES:
        if len(parts) == 3 and parts[1].isdigit() and parts[2] in INTERFACE_FIELDS:
            return key
        return INTERFACES
    return parts[0]


def step_of(key: str) -> WizardStep:
    """The step whose page shows the error ``key`` (an unknown key: the first step's)."""
    return _STEP_OF_FIELD.get(slot_of(key).split(".")[0], STEPS[0])


def is_slot(slot: str) -> bool:
    """Whether ``slot`` is a question or an interface row's cell the page can show."""
    return slot in _STEP_OF_FIELD or (slot_of(slot) == slot and slot.startswith(f"{INTERFACES}."))


def slot_input_name(slot: str) -> str:
    """The form input behind a slot: ``host_interfaces.0.gateway`` → ``iface-0-gateway``."""
    if slot.startswith(f"{INTERFACES}."):
        _, row, name = slot.split(".")
        return f"{INTERFACE_PREFIX}-{row}-{name}"
    return slot


def slot_dom_id(slot: str) -> str:
    """The id of a slot's error area on the page (``id_lan_network_errors``), as the one-page
    form names it."""
    return f"id_{slot_input_name(slot)}_errors"


def slot_label(slot: str) -> str:
    if slot.startswith(f"{INTERFACES}."):
        _, row, name = slot.split(".")
        label = HostInterfaceFormSet.form.base_fields[name].label or name.capitalize()
        return f"Interface {int(row) + 1} {label.lower()}"
    if slot == INTERFACES:
        return "Interfaces"
    form_field = SiteForm.base_fields.get(slot)
    if form_field is not None and form_field.label:
        return form_field.label
    return slot.replace("_", " ").capitalize()


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
            {name: form[name].value() for name in INTERFACE_FIELDS} for form in self.formset.forms
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
        description = SiteDescription.from_dict(site_data)
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


# --- The preview of the rules (the review step, and the side panel while answering) ----------

_KIND_LABELS = {
    RuleKind.ALLOW_OUTBOUND: "Allow out",
    RuleKind.SOURCE_NAT: "Translate (source NAT)",
    RuleKind.DESTINATION_NAT: "Forward in (port-forward)",
    RuleKind.ALLOW_INBOUND: "Allow in",
    RuleKind.STATIC_ROUTE: "Persistent static route",
    RuleKind.HOST_FIREWALL_OUTBOUND: "Windows firewall: allow out",
    RuleKind.HOST_FIREWALL_INBOUND: "Windows firewall: allow in",
}


@dataclass(frozen=True)
class RuleRow:
    """One derived rule as the review shows it."""

    kind: str
    what: str
    on_host: bool
    traffic: str
    source: str
    destination: str
    guide_label: str
    guide_title: str
    detail: str


def _networks(networks) -> str:
    return ", ".join(str(n) for n in networks)


def rule_row(rule: Rule) -> RuleRow:
    outside = f"the firewall's public address {rule.public_address}" if rule.public_address else (
        "the firewall's outside interface"
    )
    sources = _networks(rule.allowed_sources) or "any address"
    source, destination = {
        RuleKind.ALLOW_OUTBOUND: (str(rule.hosts), f"datacenter {_networks(rule.datacenter)}"),
        RuleKind.SOURCE_NAT: (str(rule.hosts), "the firewall's outside address"),
        RuleKind.DESTINATION_NAT: (sources, f"{outside} → backup host {rule.hosts}"),
        RuleKind.ALLOW_INBOUND: (sources, f"backup host {rule.hosts}"),
        RuleKind.STATIC_ROUTE: (
            "the backup host",
            f"{rule.route_destination} via {rule.next_hop} ({rule.interface_name})",
        ),
        RuleKind.HOST_FIREWALL_OUTBOUND: (
            "the backup host", f"datacenter {_networks(rule.datacenter)}",
        ),
        RuleKind.HOST_FIREWALL_INBOUND: (sources, "the backup host"),
    }[rule.kind]
    return RuleRow(
        kind=str(rule.kind),
        what=_KIND_LABELS[rule.kind],
        on_host=rule.kind.on_host,
        traffic=str(rule.port_spec) if rule.port_spec else "—",
        source=source,
        destination=destination,
        guide_label=rule.reason.label,
        guide_title=rule.reason.rule.title,
        detail=rule.reason.detail,
    )


@dataclass(frozen=True)
class DocumentOutline:
    """The instructions one renderer will produce: for the firewall, or the Windows host."""

    name: str
    versions: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    rules: tuple[RuleRow, ...]
    warnings: tuple[str, ...]
    documents: tuple[DocumentOutline, ...]
    diagram: str
    guide_rules: tuple[GuideRule, ...] = field(default=())

    @property
    def in_brief(self) -> list[dict]:
        """The rules with the same action and path on one line (TCP 4403, UDP 4403 …), for the
        side panel."""
        lines: dict[tuple, dict] = {}
        for rule in self.rules:
            line = lines.setdefault(
                (rule.what, rule.source, rule.destination),
                {"rule": rule, "traffic": [], "guide_label": rule.guide_label},
            )
            if rule.traffic != "—":
                line["traffic"].append(rule.traffic)
        return list(lines.values())

    @property
    def firewall_rules(self) -> tuple[RuleRow, ...]:
        return tuple(r for r in self.rules if not r.on_host)

    @property
    def host_rules(self) -> tuple[RuleRow, ...]:
        return tuple(r for r in self.rules if r.on_host)


def preview(description: SiteDescription, profile: ProfileSpec) -> Preview:
    """What the site will get: the rules with their reasons, the warnings, an outline of each
    instruction document and the network diagram. Pure, and fast (the renderers are)."""
    policy = derive_rules(description, profile)
    rendered = [r.render(policy, description, profile) for r in renderers_for_site(description)]
    warnings: list[str] = []
    for document in rendered:
        warnings += [w.message for w in document.warnings if w.message not in warnings]
    documents = tuple(
        DocumentOutline(
            name=get_renderer(document["vendor"]).name,
            versions=get_renderer(document["vendor"]).versions,
            steps=tuple(step["title"] for step in document["steps"]),
        )
        for document in map(rendered_as_dict, rendered)
    )
    used = sorted({g for rule in policy.rules for g in rule.reason.guide_rules})
    return Preview(
        rules=tuple(rule_row(rule) for rule in policy.rules),
        warnings=tuple(warnings),
        documents=documents,
        diagram=render_diagram(
            description.to_dict(), policy_as_dicts(policy),
            vendor_name=vendor_display_name(description.vendor),
        ),
        guide_rules=tuple(used),
    )


# --- The review's summary of the answers --------------------------------------------------------

_BLANK = {
    "firmware": "not given",
    "inside_interface": "the vendor's usual name",
    "outside_interface": "the vendor's usual name",
    "public_address": "dynamic (it changes)",
    "host_address": "not given",
    "monitoring_sources": "anywhere on the Internet (not recommended)",
}


def _relevant(question: Question, data: dict) -> bool:
    if question.when is None:
        return True
    name, value = question.when
    return data.get(name) == value


def summary(answers: Answers) -> list[tuple[WizardStep, list[tuple[str, str]]]]:
    """Each step's relevant answers as (label, value) in words, for the review."""
    data, form = answers.site_data, answers.form
    result = []
    for step in STEPS:
        rows = []
        for question in step.questions:
            if not _relevant(question, data) or question.field == INTERFACES:
                continue
            form_field = form.fields[question.field]
            value = form.cleaned_data.get(question.field)
            if question.field == "vendor":
                text = vendor_display_name(value)
            elif question.field == "monitoring_sources":
                text = ", ".join(data.get("monitoring_sources") or [])
            elif isinstance(value, bool):
                text = "Yes" if value else "No"
            elif hasattr(form_field, "choices"):
                text = dict(form_field.choices).get(value, value)
            else:
                text = value or ""
            label = question.short_label or form[question.field].label
            rows.append((label, str(text) or _BLANK.get(question.field, "—")))
        result.append((step, rows))
    return result
