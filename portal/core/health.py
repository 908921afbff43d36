"""Configuration checks the operator's System health page shows.

They are Django system checks registered with the tag :data:`HEALTH`: Django runs them at
start-up like every system check (``runserver``, ``migrate``, ``manage.py check``), and the page
runs them again on each visit, so the operator sees a problem without reading the server's log.
Apps register their own (``sites.checks``); this module knows none of them.
"""

from django.core import checks

HEALTH = "health"


def configuration_messages() -> list[checks.CheckMessage]:
    """Every problem the checks tagged :data:`HEALTH` find now, most serious first."""
    messages = checks.run_checks(tags=[HEALTH])
    return sorted(messages, key=lambda message: -message.level)
