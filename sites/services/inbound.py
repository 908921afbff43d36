"""The inbound check: a worker connects to the site's public address on the monitoring ports,
and the listener on the backup host must answer with the run's token.

Only that address (checked: no loopback, private, reserved… unless ``PROBE_ALLOW_PRIVATE``) and
only the profile's ports are ever contacted, whatever the run asks for.
"""

from __future__ import annotations

import asyncio
import time

from django.conf import settings

from sites.models import ProbeDirection
from sites.probes.addresses import ForbiddenAddress, ForbiddenPort, check_port, check_target
from sites.probes.inbound import InboundTarget, check_inbound
from sites.services import probes
from sites.services.probe_ports import actual_port


def run_inbound_check(*, run_id: int) -> None:
    """Claim the inbound run ``run_id``, check it once and record the outcome; nothing when
    another delivery of the same task has claimed it already."""
    run = probes.claim_inbound_run(run_id=run_id)
    if run is None:
        return
    try:
        address = check_target(run.site.public_address, allow_private=settings.PROBE_ALLOW_PRIVATE)
        allowed = [
            (e["protocol"], e["port"]) for e in probes.expected_ports(run.site, run.direction)
        ]
        targets = []
        for expected in run.expected:
            protocol, port = expected["protocol"], expected["port"]
            check_port(port, [p for proto, p in allowed if proto == protocol])
            real_port = actual_port(protocol, port, direction=ProbeDirection.INBOUND)
            targets.append((InboundTarget(address, real_port, protocol, run.token), port))
    except (ForbiddenAddress, ForbiddenPort) as refusal:
        probes.finish_inbound_run(run_id=run_id, results=[], refusal=f"Not probed: {refusal}")
        return
    results = asyncio.run(check_inbound([target for target, _ in targets]))
    now = time.time()
    seen = [
        probes.Seen(
            run_id=run_id,
            direction=ProbeDirection.INBOUND,
            port=port,
            protocol=result.target.protocol,
            observed_ip=str(address),
            observed_port=result.target.port,
            outcome="ok" if result.proven else str(result.outcome),
            received_at=now,
            detail=result.detail,
        )
        for (_, port), result in zip(targets, results, strict=True)
    ]
    probes.finish_inbound_run(run_id=run_id, results=seen)
