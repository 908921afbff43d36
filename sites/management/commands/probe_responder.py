"""Run the probe responder: answer probe clients on the service profiles' ports, record what
arrives, and settle the probe runs it proves. Stops cleanly on SIGTERM (in-flight probes answered,
observations written).

    python manage.py probe_responder [--bind ADDRESS]

Listens on every outbound and monitoring port of every service profile (TCP 4401, TCP 4403 and
UDP 4403 for the guide's), or where PROBE_PORT_MAP moves them (labs and tests).
"""
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portal.audit import context
from portal.audit.context import Source
from sites.models import ServiceProfile
from sites.probes.protocol import ErrorCode
from sites.probes.responder import BUSY, NO_LINE, BatchingSink, Observation, ProbeResponder, run
from sites.services.probes import Seen, probe_key, record_observations

# Not worth a row each: connections that never sent a line, were turned away as the responder was
# full, or came from a source over its rate (a flood would otherwise become a database flood).
NOT_RECORDED = {NO_LINE, BUSY, ErrorCode.RATE_LIMITED}


def profile_ports() -> list[tuple[str, int]]:
    """(protocol, port) of every outbound and monitoring port of every profile."""
    ports = set()
    ServiceProfile.objects.default()  # the guide's profile, if somebody removed every profile
    for profile in ServiceProfile.objects.all():
        for spec in [*profile.outbound_ports, *profile.monitoring_ports]:
            ports.add((spec["protocol"], int(spec["port"])))
    return sorted(ports)


class Command(BaseCommand):
    help = "Answer probe clients on the service profiles' ports and record the proof."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.PROBE_RESPONDER_BIND)

    def handle(self, *args, bind, **options):
        ports = profile_ports()
        listen_port = {
            (proto, port): settings.PROBE_PORT_MAP.get(f"{proto}/{port}", port) for proto, port in ports
        }
        profile_port = {(proto, real): port for (proto, port), real in listen_port.items()}

        def write_batch(batch: list[Observation]) -> None:
            # Runs in the sink's thread: its own database connection, attributed to the responder.
            context.begin(source=Source.WORKER, actor_label="probe-responder")
            close_old_connections()
            try:
                _record(batch)
            finally:
                close_old_connections()

        def _record(batch: list[Observation]) -> None:
            record_observations([
                Seen(
                    run_id=o.run_id, direction="outbound",
                    port=profile_port.get((o.protocol, o.port), o.port), protocol=o.protocol,
                    observed_ip=o.observed_ip, observed_port=o.observed_port,
                    outcome=o.outcome, received_at=o.received_at, receipt=o.receipt,
                )
                for o in batch
                if o.outcome not in NOT_RECORDED
            ])

        responder = ProbeResponder(
            probe_key(),
            [(bind, real, proto) for (proto, _), real in sorted(listen_port.items())],
            BatchingSink(write_batch),
        )

        def started(responder):
            endpoints = ", ".join(f"{e.host}:{e.port}/{e.protocol}" for e in responder.endpoints)
            self.stdout.write(f"Probe responder listening on {endpoints}", ending="\n")
            self.stdout.flush()

        run(responder, on_started=started)
        self.stdout.write("Probe responder stopped.")
