"""A download of sites is recorded like a download of the audit trail: who took which sites of
whose organisation, chosen how, and how many (``sites.exported``)."""

from django.db import transaction

from portal.accounts.models import Organisation
from portal.audit.models import AuditEvent
from portal.audit.services import record_event


def record_sites_export(
    *, organisation: Organisation, export_format: str, filters: dict, rows: int
) -> AuditEvent:
    """The ``sites.exported`` event, written before the file's first byte leaves."""
    with transaction.atomic():
        return record_event(
            action="sites.exported",
            organisation=organisation,
            after={"format": export_format, "filters": filters, "rows": rows},
        )
