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
from sites.probes.responder import BatchingSink, Observation, ProbeResponder, run
from sites.services.probes import probe_key
from sites.services.responder import record_responder_observations, responder_ports


class Command(BaseCommand):
    help = "Answer probe clients on the service profiles' ports and record the proof."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.PROBE_RESPONDER_BIND)

    def handle(self, *args, bind, **options):
        ports = responder_ports()

        def write_batch(batch: list[Observation]) -> None:
            # Runs in the sink's thread: its own database connection, attributed to the responder.
            context.begin(source=Source.WORKER, actor_label="probe-responder")
            close_old_connections()
            try:
                record_responder_observations(batch, ports=ports)
            finally:
                close_old_connections()

        responder = ProbeResponder(
            probe_key(),
            ports.endpoints(bind),
            BatchingSink(write_batch),
            max_connections_per_source=settings.PROBE_RESPONDER_MAX_CONNECTIONS_PER_SOURCE,
        )

        def started(responder):
            endpoints = ", ".join(f"{e.host}:{e.port}/{e.protocol}" for e in responder.endpoints)
            self.stdout.write(f"Probe responder listening on {endpoints}", ending="\n")
            self.stdout.flush()

        run(responder, on_started=started)
        self.stdout.write("Probe responder stopped.")
