"""Exporting a search of the audit trail as CSV or JSON, streamed row by row.

The export is itself an audit event (``audit.exported``, with the filters and the row count),
written before the first byte leaves. The rows are those that existed at that moment: the
stream is bounded by the newest event id counted, so the count and the file agree and the
export's own event is not in it.
"""

import json
from itertools import chain

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from portal.audit.models import AuditEvent
from portal.audit.services import record_event
from portal.core import spreadsheet

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
COLUMNS = [
    "occurred_at",
    "organisation",
    "actor",
    "actor_kind",
    "action",
    "object_type",
    "object_id",
    "object",
    "source",
    "request_id",
    "ip_address",
    "before",
    "after",
]
CHUNK_SIZE = 2000


def export_events(
    events: QuerySet[AuditEvent], *, export_format: str, organisation, filters: dict
) -> StreamingHttpResponse:
    """A download of ``events`` (already scoped and filtered), after recording the export."""
    if export_format not in FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    totals = events.order_by().aggregate(rows=Count("id"), last_id=Max("id"))
    rows, last_id = totals["rows"], totals["last_id"] or 0
    record_export(
        organisation=organisation, export_format=export_format, filters=filters, rows=rows
    )
    bounded = events.filter(id__lte=last_id).iterator(chunk_size=CHUNK_SIZE)
    if export_format == "csv":
        content = csv_lines(bounded)
    else:
        content = json_chunks(bounded, organisation=organisation, filters=filters, rows=rows)
    response = StreamingHttpResponse(content, content_type=FORMATS[export_format])
    name = filename(organisation, export_format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def record_export(*, organisation, export_format: str, filters: dict, rows: int) -> AuditEvent:
    """The ``audit.exported`` event: who exported which search of whose trail, and how much."""
    with transaction.atomic():
        return record_event(
            action="audit.exported",
            organisation=organisation,
            after={"format": export_format, "filters": filters, "rows": rows},
        )


def filename(organisation, export_format: str) -> str:
    return f"audit-{organisation.slug}-{timezone.localdate():%Y-%m-%d}.{export_format}"


def event_row(event: AuditEvent) -> dict:
    """One event as plain data, the same fields in CSV and JSON."""
    return {
        "occurred_at": timezone.localtime(event.occurred_at).isoformat(),
        "organisation": event.organisation_name,
        "actor": event.actor_label,
        "actor_kind": event.actor_kind,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object": event.object_repr,
        "source": event.source,
        "request_id": event.request_id,
        "ip_address": event.ip_address or "",
        "before": event.before,
        "after": event.after,
    }


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)
    return str(value)


def csv_lines(events):
    """The events as CSV, header first, every cell formula-safe (``portal.core.spreadsheet``)."""
    rows = ([_cell(row[column]) for column in COLUMNS] for row in map(event_row, events))
    yield from spreadsheet.csv_lines(chain([COLUMNS], rows))


def json_chunks(events, *, organisation, filters: dict, rows: int):
    """``{"organisation": …, "exported_at": …, "filters": …, "rows": n, "events": [...]}``."""
    head = {
        "organisation": organisation.slug,
        "exported_at": timezone.localtime().isoformat(),
        "filters": filters,
        "rows": rows,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "events": ['
    separator = "\n"
    for event in events:
        yield separator + json.dumps(event_row(event), ensure_ascii=False, cls=DjangoJSONEncoder)
        separator = ",\n"
    yield "\n]}\n"
