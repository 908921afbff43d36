"""The wizard's steps, the way between them, and where each error shows.

A step asks the questions of one section of the site fields (``sites.site_fields.SECTIONS``);
what each question says comes from the same table the one-page form reads. Errors are keyed as
the description keys them (``lan_network``, ``monitoring_sources.1``,
``host_interfaces.0.gateway``); :func:`slot_of` says which error slot on the page shows each one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sites.site_fields import INTERFACE_FIELDS, SECTIONS, FieldInfo, Section, site_field

INTERFACE_PREFIX = "iface"  # the one-page form's prefix too, so both post the same names
INTERFACES = "host_interfaces"
INTERFACE_PARTS = tuple(info.name for info in INTERFACE_FIELDS)
REVIEW = "review"

_INTROS = {
    "firewall": "Which firewall stands between this site and the Internet. Each make has its "
    "own menus and commands; the instructions you get are written for yours.",
    "network": "Where the backup host sits and how it gets its address. The backup software "
    "always starts the connection to the datacenter, so the rules are about traffic leaving "
    "this network; nothing has to be opened inbound for backup and restore.",
    "monitoring": "Two situations that need more than the outbound backup rule: watching the "
    "backup with the Java GUI from outside this network, and a backup host with more than one "
    "network card. If neither applies, just continue.",
}


@dataclass(frozen=True)
class WizardStep:
    slug: str
    title: str
    intro: str
    questions: tuple[FieldInfo, ...]

    @classmethod
    def of(cls, section: Section) -> WizardStep:
        questions = tuple(site_field(name) for name in section.names)
        return cls(section.slug, section.title, _INTROS[section.slug], questions)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.questions)

    @property
    def number(self) -> int:
        return STEP_SLUGS.index(self.slug) + 1


STEPS: tuple[WizardStep, ...] = tuple(WizardStep.of(section) for section in SECTIONS)
STEP_SLUGS = tuple(step.slug for step in STEPS)
ORDER = (*STEP_SLUGS, REVIEW)  # what Continue and Back move through
_STEP_OF_FIELD = {name: step for step in STEPS for name in step.fields}


def step_named(slug: str | None) -> WizardStep | None:
    return next((step for step in STEPS if step.slug == slug), None)


def destination(here: str, go: str) -> str:
    """Where a button leads from page ``here``: ``back``, a page's slug, or on (the default)."""
    position = ORDER.index(here)
    if go == "back":
        return ORDER[max(position - 1, 0)]
    if go in ORDER:
        return go
    return ORDER[min(position + 1, len(ORDER) - 1)]


def is_forward(here: str, target: str) -> bool:
    """Moving on (or to the review) needs every step before the target to hold up."""
    return ORDER.index(target) > ORDER.index(here) or target == REVIEW


def when_attr(question: FieldInfo) -> str:
    """``data-when`` on the page, which the stylesheet uses to hide irrelevant questions."""
    if question.when is None:
        return ""
    name, value = question.when
    return name if value is True else f"{name}={value}"


def is_relevant(question: FieldInfo, data: dict) -> bool:
    """Whether the answers in ``data`` make ``question`` apply (a range needs its bounds …)."""
    if question.when is None:
        return True
    name, value = question.when
    return data.get(name) == value


# --- Error slots --------------------------------------------------------------------------------


def slot_of(key: str) -> str:
    """The error slot that shows the error ``key``: its field, or its interface row's cell."""
    parts = key.split(".")
    if parts[0] == INTERFACES:
        if len(parts) == 3 and parts[1].isdigit() and parts[2] in INTERFACE_PARTS:
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
        label = next(info.label for info in INTERFACE_FIELDS if info.name == name)
        return f"Interface {int(row) + 1} {label.lower()}"
    try:
        return site_field(slot).label
    except KeyError:
        return slot.replace("_", " ").capitalize()
