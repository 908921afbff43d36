"""System checks of probe addressing (#13): the portal's probes must be able to prove what the
instructions open.

The outbound probe on a backup host connects to the responder (``PROBE_RESPONDER_HOST``), but the
instructions only let the backup port out towards the profile's datacenter networks: a responder
outside them makes a correct firewall fail its own proof. The inbound checks come from
``PROBE_CHECK_SOURCE``, which restricted sites let in (``sites.policy``); unset, they cannot.

Registered at start-up (``SitesConfig.ready``) with the ``health`` tag, so the operator's System
health page shows them too (``portal.core.health``). They read the service profiles: the table
may not exist yet (before ``migrate``), which is not a problem of the addressing.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from portal.core.health import HEALTH
from sites.models import ServiceProfile


def _address(value: str) -> IPv4Address | None:
    try:
        return IPv4Address(value.strip())
    except ValueError:
        return None


@checks.register(HEALTH, "probes")
def check_probe_addressing(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    host = settings.PROBE_RESPONDER_HOST
    if _address(host) is None:
        messages.append(
            checks.Warning(
                f"PROBE_RESPONDER_HOST ({host!r}) is not an IPv4 address: the portal cannot check "
                "that the outbound probe can reach the responder, nor name its address in the "
                "instructions.",
                hint="Set PROBE_RESPONDER_HOST to the responder's public IPv4 address.",
                id="sites.W002",
            )
        )
    source = settings.PROBE_CHECK_SOURCE
    if not source.strip():
        messages.append(
            checks.Warning(
                "PROBE_CHECK_SOURCE is not set: sites whose monitoring is restricted to given "
                "sources do not let the portal's inbound checks in, so those checks fail until "
                "the customer allows the portal's address by hand.",
                hint="Set PROBE_CHECK_SOURCE to the public IPv4 address the workers' inbound "
                "checks connect from.",
                id="sites.W003",
            )
        )
    elif _address(source) is None:
        messages.append(
            checks.Error(
                f"PROBE_CHECK_SOURCE ({source!r}) is not an IPv4 address.",
                hint="Set it to the public IPv4 address the inbound checks connect from, "
                "e.g. 203.0.113.5, or leave it unset.",
                id="sites.E001",
            )
        )
    try:
        profiles = [profile.as_spec() for profile in ServiceProfile.objects.order_by("name")]
    except DatabaseError:
        return messages  # not migrated yet
    for spec in profiles:
        if spec.responder_outside_datacenter:
            networks = ", ".join(str(n) for n in spec.datacenter_networks)
            messages.append(
                checks.Warning(
                    f"The probe responder {spec.probe_responder} is outside the datacenter "
                    f"networks of the service profile {spec.name!r} ({networks}): the outbound "
                    "rules only let the probe reach those, so a correct firewall fails its "
                    "own proof.",
                    hint="Add the responder's network to the profile's datacenter networks, or "
                    "move the responder (PROBE_RESPONDER_HOST) to an address inside them.",
                    obj=spec.name,
                    id="sites.W001",
                )
            )
    return messages
