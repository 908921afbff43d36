"""Logging filter that stamps every record with the current request (or task) id."""

import logging

from portal.audit import context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        return True
