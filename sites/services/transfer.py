"""Importing and exporting sites as CSV or JSON.

**JSON** is a list of site files (docs/site-file.md), one object per site. **CSV** has a header row
naming the columns, then one row per site; the columns are the site-file fields:

- an empty cell is an absent field (its default, or "required" when it has none);
- booleans are ``true``/``false`` (also ``yes``/``no``, ``1``/``0``);
- ``monitoring_sources`` lists its networks separated by ``;``;
- ``host_interfaces`` lists its interfaces separated by ``;``, each written
  ``name|index|address|network|gateway`` (the gateway may be left empty).

Both formats may also carry ``reverify`` (``off``, ``daily``, ``weekly``; default ``weekly``) and
``organisation`` (the slug of the organisation the site belongs to: when given it must be the one
imported into, so a reseller's export of several clients cannot land in the wrong one). Exports
write both, so an export imports again unchanged. Exported cells are formula-safe
(``portal.core.spreadsheet``): the ``'`` the export puts before a cell a spreadsheet would run is
removed again on import.

An import is checked in full first (``check_import``: every row through ``SiteDescription.from_dict``,
names unique within the file and against the organisation's sites) and every problem is reported
with its line and field. ``import_sites`` creates nothing unless the whole file is clean, and then
creates every site in one transaction through ``create_site``. Importing only the clean rows
(``import_clean_rows``) is a choice the person makes after seeing the problems, for exactly the
number of clean rows they were shown; the rows left out are listed with their problems.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.spreadsheet import csv_lines, read_cell
from sites.description import DescriptionError, SiteDescription
from sites.models import ServiceProfile, Site
from sites.models.site import Reverify
from sites.services.sites import create_site
from sites.site_fields import (
    REVERIFY,
    boolean_names,
    interface_names,
    required_names,
    site_field,
    site_file_names,
)
from sites.vendors import vendor_choices

FORMATS = ("csv", "json")
# The site-file fields in the site file's order, then the extras.
SITE_FILE_FIELDS = site_file_names()
EXTRA_FIELDS = (REVERIFY.name, "organisation")
CSV_COLUMNS = (*SITE_FILE_FIELDS, *EXTRA_FIELDS)
BOOLEAN_FIELDS = boolean_names()
LIST_SEPARATOR = ";"
INTERFACE_SEPARATOR = "|"
INTERFACE_PARTS = interface_names()
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True)
class ColumnHelp:
    """One column of the import format as the help shows it: its name, label, whether a row
    must fill it, what it holds (``text_parts``: text and `code` alternately, from the field
    table's words), and the values it accepts when they are a fixed list."""

    name: str
    label: str
    required: bool
    text_parts: tuple[str, ...]
    values: tuple[tuple[str, str], ...] = ()


_CSV_CELL_NOTES = {
    "monitoring_sources": f" In CSV: separated by `{LIST_SEPARATOR}`.",
    "host_interfaces": (
        f" In CSV: each `{INTERFACE_SEPARATOR.join(INTERFACE_PARTS)}` (the gateway may be left "
        f"empty), separated by `{LIST_SEPARATOR}`."
    ),
}


def column_help() -> tuple[ColumnHelp, ...]:
    """Every column an import reads, in the export's order, described from ``sites.site_fields``
    (the one field table) and the renderers (the vendor slugs)."""
    required = set(required_names())
    booleans = boolean_names()
    columns = []
    for name in SITE_FILE_FIELDS + (REVERIFY.name,):
        info = site_field(name)
        text = (info.schema_help or info.help) + _CSV_CELL_NOTES.get(name, "")
        if name == "vendor":
            values: tuple[tuple[str, str], ...] = tuple(vendor_choices())
        elif name in booleans:
            values = (("true", "Yes"), ("false", "No"))
        elif name == REVERIFY.name:
            values = tuple(Reverify.choices)
            text += f" Default: `{Reverify.WEEKLY}`."
        else:
            values = info.choices
        columns.append(
            ColumnHelp(name, info.review_label, name in required, tuple(text.split("`")), values)
        )
    columns.append(
        ColumnHelp(
            "organisation",
            "Organisation",
            False,
            (
                "The slug of the organisation the site belongs to; when given, it must be the one "
                "you import into (an export writes it).",
            ),
        )
    )
    return tuple(columns)


@dataclass(frozen=True)
class CsvFormat:
    """What the import help tells people about the columns, read from the same constants."""

    required: tuple[str, ...] = required_names()
    columns: tuple[ColumnHelp, ...] = field(default_factory=column_help)


# One import is one transaction and one request: keep it to what a request does in seconds.
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 2_000
# A site file is a list of objects whose host_interfaces is a list of objects: four levels.
MAX_JSON_DEPTH = 4


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where (line of the file, field) and what."""

    line: int
    field: str
    message: str
    site: str = ""
    # About one row only (the rest of the file was read): leaving that row out is possible.
    # Otherwise the file itself is wrong (unreadable, wrong columns, too big) and nothing imports.
    row: bool = False


@dataclass(frozen=True)
class ImportRow:
    line: int
    data: dict  # the site file, as ``SiteDescription.from_dict`` reads it
    reverify: str


@dataclass
class ImportCheck:
    """The result of a dry run: the rows to create, or every problem found (nothing created)."""

    format: str
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def bad_lines(self) -> list[int]:
        """The lines of the rows with problems, in file order."""
        return sorted({p.line for p in self.problems if p.row})

    @property
    def can_skip_bad_rows(self) -> bool:
        """Some rows are clean and every problem is a row's own: importing only the clean rows
        is a choice to offer (never made without asking)."""
        return bool(self.rows) and bool(self.problems) and all(p.row for p in self.problems)


class ImportRefused(ServiceError):
    """The file has problems; nothing was imported. ``problems`` lists them by line and field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(f"line {p.line}" + (f": {p.field}" if p.field else ""), []).append(
                p.message
            )
        super().__init__(errors=errors)


def detect_format(text: str, filename: str = "") -> str:
    """``json`` or ``csv``: from the file name's extension, else from the first character."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in FORMATS:
        return suffix
    return "json" if text.lstrip().startswith(("[", "{")) else "csv"


def decode(content: bytes) -> str:
    """The file as text: UTF-8, with or without the byte-order mark spreadsheets write."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            [Problem(0, "", f"The file is not UTF-8 text (byte {error.start}).")]
        ) from None


# --- Reading ----------------------------------------------------------------------------------


def _csv_value(name: str, cell: str):
    """A CSV cell as the site file's JSON value; ``None`` when the cell is empty (absent field).

    Values that do not convert are passed on as text, so ``from_dict`` names the problem.
    """
    cell = read_cell(cell.strip())  # the export's formula guard
    if cell == "":
        return None
    if name in BOOLEAN_FIELDS:
        lowered = cell.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else cell
    if name == "monitoring_sources":
        return [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]
    if name == "host_interfaces":
        interfaces = []
        for item in (i for i in cell.split(LIST_SEPARATOR) if i.strip()):
            parts = [part.strip() for part in item.split(INTERFACE_SEPARATOR)]
            if len(parts) == 4:  # the gateway is optional
                parts.append("")
            if len(parts) != len(INTERFACE_PARTS):
                interfaces.append(
                    item.strip()
                )  # from_dict: "Expected an object with named fields."
                continue
            interface = dict(zip(INTERFACE_PARTS, parts, strict=True))
            if interface["index"].isdigit():
                interface["index"] = int(interface["index"])
            interface["gateway"] = interface["gateway"] or None
            interfaces.append(interface)
        return interfaces
    return cell


def read_csv(lines: Iterable[str]) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """(line, raw site) for the rows of a CSV file given as lines; stops at one row more than
    ``MAX_IMPORT_ROWS``, so a long file costs no more than the limit (``check_import`` refuses it)."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(1, "", "The file is empty: the first line names the columns.")]
    except csv.Error as error:
        return [], [Problem(1, "", f"Not a CSV file: {error}.")]
    columns = [column.strip() for column in header]
    problems = []
    for column in columns:
        if column not in CSV_COLUMNS:
            hint = (
                " (columns are separated by commas; lists inside a cell by ';')"
                if ";" in column
                else ""
            )
            problems.append(Problem(1, column, f"Unknown column{hint}."))
        elif columns.count(column) > 1:
            problems.append(Problem(1, column, "This column appears twice."))
    if "name" not in columns:
        problems.append(Problem(1, "name", "The file has no 'name' column."))
    if problems:
        return [], list(dict.fromkeys(problems))
    records, line = [], reader.line_num
    while len(records) <= MAX_IMPORT_ROWS:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(start, "", f"Not valid CSV: {error}."))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between rows
        if len(cells) > len(columns):
            problems.append(
                Problem(
                    start,
                    "",
                    f"{len(cells)} cells, but the header names {len(columns)} columns.",
                    row=True,
                )
            )
            continue
        data = {}
        for column, cell in zip(columns, cells, strict=False):
            value = _csv_value(column, cell)
            if value is not None:
                data[column] = value
        records.append((start, data))
    return records, problems


class _LineCounter:
    """Line numbers of positions met in increasing order, counting each newline once (not from
    the start of the text for every item: that made a long list quadratic)."""

    def __init__(self, text: str):
        self.text, self.position, self.line = text, 0, 1

    def line_of(self, position: int) -> int:
        if position < self.position:
            self.position, self.line = 0, 1
        self.line += self.text.count("\n", self.position, position)
        self.position = position
        return self.line


# A string (skipped whole: brackets inside it are text) or a bracket. An unterminated string runs
# to the end of the text, so that each character is read once whatever the quotes and backslashes.
_JSON_NESTING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)
_JSON_WHITESPACE = re.compile(r"[ \t\r\n]*")


def _too_deep(text: str) -> int | None:
    """Where the text first nests lists and objects deeper than ``MAX_JSON_DEPTH``, or ``None``.

    One linear scan before decoding: the decoder recurses once per level, so 100,000 ``[`` would
    exhaust Python's stack (a 500) where a 422 naming the problem is due.
    """
    depth = 0
    for token in _JSON_NESTING.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return token.start()
        elif bracket in ("]", "}"):
            depth -= 1
    return None


def _read_json(text: str) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """The list's items with the line each starts on (read one by one to know that line), up to
    one item more than ``MAX_IMPORT_ROWS``."""
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)

    def skip(position: int) -> int:
        return _JSON_WHITESPACE.match(text, position).end()

    def syntax(error: json.JSONDecodeError) -> Problem:
        return Problem(error.lineno, "", f"Not valid JSON: {error.msg} (column {error.colno}).")

    deep = _too_deep(text)
    if deep is not None:
        return [], [
            Problem(
                lines.line_of(deep),
                "",
                f"Lists and objects are nested more than {MAX_JSON_DEPTH} levels deep here; "
                "a site file needs no more (a list of sites, each with a list of interfaces).",
            )
        ]
    position = skip(0)
    if position >= len(text) or text[position] != "[":
        return [], [
            Problem(lines.line_of(position), "", "Expected a JSON list of site files: [{…}, {…}].")
        ]
    records, position = [], skip(position + 1)
    if position < len(text) and text[position] == "]":
        return [], []
    while len(records) <= MAX_IMPORT_ROWS:
        try:
            item, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            return records, [syntax(error)]
        records.append((lines.line_of(position), item))
        position = skip(end)
        if position < len(text) and text[position] == ",":
            position = skip(position + 1)
            continue
        if position < len(text) and text[position] == "]":
            break
        return records, [
            Problem(
                lines.line_of(position), "", "Not valid JSON: expected ',' or ']' after a site."
            )
        ]
    else:
        return records, []  # too many sites: ``check_import`` says so without reading the rest
    if skip(position + 1) < len(text):
        return records, [
            Problem(lines.line_of(skip(position + 1)), "", "Not valid JSON: text after the list.")
        ]
    return records, []


def read_sites_file(text: str, fmt: str) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """(line, raw site) for every site in the file (up to one more than ``MAX_IMPORT_ROWS``), and
    the problems that stop reading it."""
    if fmt not in FORMATS:
        raise ServiceError("format", f"Choose one of: {', '.join(FORMATS)}.")
    if fmt == "csv":
        return read_csv(io.StringIO(text, newline=""))
    return _read_json(text)


# --- Checking and importing ------------------------------------------------------------------


def check_import(*, organisation, text: str, fmt: str) -> ImportCheck:
    """Dry run: every problem of the file, by line and field; saves nothing.

    Each site goes through ``SiteDescription.from_dict``; names must be unique within the file and
    among the organisation's sites (ignoring case, as ``create_site`` does).
    """
    check = ImportCheck(format=fmt)
    if not organisation.is_customer:
        raise ServiceError("organisation", "Sites belong to customer organisations.")
    if len(text.encode()) > MAX_IMPORT_BYTES:
        check.problems.append(
            Problem(0, "", f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB: split it.")
        )
        return check
    records, check.problems = read_sites_file(text, fmt)
    if not records and not check.problems:
        check.problems.append(Problem(1, "", "The file lists no sites."))
    if len(records) > MAX_IMPORT_ROWS:
        check.problems = [
            Problem(
                0,
                "",
                f"The file lists more than {MAX_IMPORT_ROWS:,} sites; "
                f"import at most {MAX_IMPORT_ROWS:,} at once.",
            )
        ]
        return check
    existing = {
        name.lower()
        for name in Site.objects.filter(organisation=organisation).values_list("name", flat=True)
    }
    seen: dict[str, int] = {}
    for line, raw in records:
        name = raw.get("name") if isinstance(raw, dict) else None
        name = name.strip() if isinstance(name, str) else ""
        problems = _check_row(raw, line, name, organisation, fmt)
        key = name.lower()
        if key and key in seen:
            problems.append(
                Problem(
                    line, "name", f"“{name}” is also the name on line {seen[key]}.", name, row=True
                )
            )
        elif key and key in existing:
            problems.append(
                Problem(
                    line,
                    "name",
                    f"{organisation.name} already has a site named “{name}”.",
                    name,
                    row=True,
                )
            )
        if key:
            seen.setdefault(key, line)
        if problems:
            check.problems.extend(problems)
        else:
            data = {k: v for k, v in raw.items() if k not in EXTRA_FIELDS}
            check.rows.append(ImportRow(line, data, raw.get("reverify") or Reverify.WEEKLY))
    check.problems.sort(key=lambda p: p.line)
    return check


_CSV_INTERFACE_HINT = (
    f"Write each interface as {INTERFACE_SEPARATOR.join(INTERFACE_PARTS)}, "
    f"separated by '{LIST_SEPARATOR}'."
)


def _check_row(raw, line: int, name: str, organisation, fmt: str) -> list[Problem]:
    if not isinstance(raw, dict):
        return [
            Problem(line, "", "Expected an object with named fields (one site file).", row=True)
        ]
    problems = []
    reverify = raw.get("reverify")
    if reverify not in (None, "", *Reverify.values):
        problems.append(
            Problem(
                line, "reverify", f"Choose one of: {', '.join(Reverify.values)}.", name, row=True
            )
        )
    owner = raw.get("organisation")
    if owner not in (None, "") and owner != organisation.slug:
        problems.append(
            Problem(
                line,
                "organisation",
                f"This site belongs to “{owner}”, not to {organisation.slug}: import it there, or clear the cell.",
                name,
                row=True,
            )
        )
    try:
        SiteDescription.from_dict(
            {k: v for k, v in raw.items() if k not in EXTRA_FIELDS},
            allow_private=settings.SITE_ALLOW_LAB_ADDRESSES,
        )
    except DescriptionError as error:
        for field_name, messages in error.errors.items():
            for message in messages:
                if (
                    fmt == "csv"
                    and field_name.startswith("host_interfaces.")
                    and message.startswith("Expected an object")
                ):
                    message = _CSV_INTERFACE_HINT
                problems.append(
                    Problem(
                        line, field_name if field_name != "__all__" else "", message, name, row=True
                    )
                )
    return problems


def import_sites(*, organisation, text: str, fmt: str) -> list[Site]:
    """Create every site of the file in one transaction, or none (``ImportRefused``).

    The file is checked in full first; each site is then created through ``create_site`` (one
    audit event each, its instructions queued after the commit), plus one ``sites.imported``
    event for the file.
    """
    check = check_import(organisation=organisation, text=text, fmt=fmt)
    if not check.ok:
        raise ImportRefused(check.problems or [Problem(1, "", "The file lists no sites.")])
    return _create_rows(organisation, check, skipped=[])


@dataclass(frozen=True)
class SkippedRow:
    """A row left out of an import of the clean rows: its line, its site's name, and why."""

    line: int
    site: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ImportOutcome:
    """What an import of the clean rows did: the sites created and the rows left out."""

    created: list[Site]
    skipped: list[SkippedRow]


def import_clean_rows(*, organisation, text: str, fmt: str, expected_rows: int) -> ImportOutcome:
    """Create the file's clean rows and leave out the rows with problems, in one transaction.

    Only what the person chose after a dry run: ``expected_rows`` is the number of clean rows
    that dry run showed them, and if the file now checks differently (a site of one of those
    names was created meanwhile, say) nothing is imported. A problem with the file itself (not
    readable to its end, unknown columns, over the limits) imports nothing (``ImportRefused``).
    """
    check = check_import(organisation=organisation, text=text, fmt=fmt)
    if check.problems and not check.can_skip_bad_rows:
        raise ImportRefused(check.problems)
    if not check.rows:
        raise ImportRefused([Problem(1, "", "The file lists no sites.")])
    if len(check.rows) != expected_rows:
        raise ServiceError(
            "",
            f"The file now has {len(check.rows)} clean rows, not the {expected_rows} you chose "
            "to import: nothing was imported. Check the file again.",
        )
    by_line: dict[int, list[Problem]] = {}
    for problem in check.problems:
        by_line.setdefault(problem.line, []).append(problem)
    skipped = [
        SkippedRow(line, next((p.site for p in found if p.site), ""), tuple(found))
        for line, found in sorted(by_line.items())
    ]
    return ImportOutcome(_create_rows(organisation, check, skipped=skipped), skipped)


def _create_rows(organisation, check: ImportCheck, *, skipped: list[SkippedRow]) -> list[Site]:
    """Create ``check``'s rows in one transaction (all, or none: ``ImportRefused``), and record
    one ``sites.imported`` event naming the rows left out."""
    profile = ServiceProfile.objects.default()
    with transaction.atomic():
        created, problems = [], []
        for row in check.rows:
            try:
                created.append(
                    create_site(
                        organisation=organisation,
                        data=row.data,
                        profile=profile,
                        reverify=row.reverify,
                    )
                )
            except ServiceError as error:  # e.g. a site of that name saved since the check
                problems.extend(
                    Problem(row.line, f, m, row.data.get("name", ""))
                    for f, ms in error.errors.items()
                    for m in ms
                )
        if problems:
            raise ImportRefused(problems)  # rolls back every site of the file
        after = {
            "format": check.format,
            "count": len(created),
            "sites": [s.name for s in created[:100]],
        }
        if skipped:
            after["skipped"] = len(skipped)
            after["skipped_lines"] = [row.line for row in skipped[:100]]
        record_event(action="sites.imported", organisation=organisation, after=after)
    return created


# --- Exporting --------------------------------------------------------------------------------


def _csv_cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "host_interfaces":
        return LIST_SEPARATOR.join(
            INTERFACE_SEPARATOR.join(
                "" if i.get(p) is None else str(i.get(p)) for p in INTERFACE_PARTS
            )
            for i in value
        )
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def export_record(site: Site) -> dict:
    """A site as its site file, plus ``reverify`` and ``organisation`` (what an import reads)."""
    return {**site.description, "reverify": site.reverify, "organisation": site.organisation.slug}


def export_csv(sites: Iterable[Site]) -> Iterator[str]:
    """The sites as CSV, line by line (header first), every cell formula-safe (``csv_lines``)."""
    yield from csv_lines(_export_rows(sites))


def _export_rows(sites: Iterable[Site]) -> Iterator[list[str]]:
    yield list(CSV_COLUMNS)
    for site in sites:
        record = export_record(site)
        yield [_csv_cell(name, record.get(name)) for name in CSV_COLUMNS]


def export_json(sites: Iterable[Site]) -> Iterator[str]:
    """The sites as a JSON list of site files, one site after another (indented: one field a line)."""
    yield "["
    first = True
    for site in sites:
        body = json.dumps(export_record(site), indent=2, ensure_ascii=False)
        yield ("\n" if first else ",\n") + "\n".join("  " + line for line in body.splitlines())
        first = False
    yield "\n]\n"
