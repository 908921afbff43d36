"""Benchmark: regenerating 10,000 sites after a service profile change, with the workers.

Target (DESIGN.md, "Targets"): after a profile change, the workers re-derive 10,000 sites in
<= 60 s on 2 cores.

What is seeded (bulk operations, in a fresh SQLite file ``var/bench-regenerate.sqlite3``, or in the
PostgreSQL database ``--database-url`` names, dropped and created again, so its name must contain
"bench"): a provider with an operator, a reseller with 50 client organisations and ``--sites``
sites (default 10,000) on the default profile, with realistic descriptions (14 vendors; static,
range and DHCP hosts; Windows or Linux; some with monitoring). Every site has current
instructions rendered for real (version 1 on the profile's revision, real content hash, rules and
documents), a rollout with its steps, and some of those steps done.

What runs:

- ``--concurrency`` (default: one per CPU) real Celery worker processes: ``celery worker --pool
  prefork``, on the embedded broker (a fresh ``sqla+sqlite`` file) for SQLite, on Redis
  (``redis://127.0.0.1:6379/0``, or ``--broker-url``) for PostgreSQL; on a queue of their own, so
  that no other worker on the same broker takes the work;
- the profile change, through the real service ``update_service_profile`` (a datacenter network
  added): it creates the job and sends ``rederive_profile``, which fans the sites out to chunk tasks
  of ``CHUNK_SIZE`` sites; the clock runs from the service call until the job has finished;
- the peer: the same regeneration in this process, without Celery: after a second profile change
  (whose job is left queued, with the workers stopped), ``regenerate_site`` in a loop over
  ``--sample`` sites spread over the list, extrapolated to all sites. For comparison (not the
  peer), as many other sites through ``regenerate_sites`` in this process, as the chunk task
  does them: this tells what batching gives from what the second worker gives.

It checks that every site ends on a new version made from the new revision, and prints the
elapsed time, sites/s, the workers' CPU per site, their resident memory before, early and late in
the job (sampled every 0.25 s), the job's progress every 10 s, and the workers' throughput
against inline.

Run from the repository root::

    .venv/bin/python bench/regenerate.py [--sites 10000] [--concurrency 2] [--sample 500]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_regenerate] [--broker-url URL]

Exit status: 0 target met, 1 missed or a check failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
VAR = REPO_ROOT / "var"
DEFAULT_DB = VAR / "bench-regenerate.sqlite3"
DEFAULT_BROKER = VAR / "bench-regenerate-broker.sqlite3"

from bench._common import (  # noqa: E402
    fresh_sqlite,
    prepare_database,
    process_tree_cpu,
    process_tree_rss,
)

TARGET_SECONDS = 60.0
CLIENTS = 50
VENDORS = [
    "fortigate",
    "cisco-asa",
    "pfsense",
    "sonicwall",
    "meraki",
    "mikrotik",
    "iptables",
    "paloalto",
    "sophos",
    "watchguard",
    "opnsense",
    "edgeos",
    "juniper-srx",
    "checkpoint",
]


# --- database, broker and seed -------------------------------------------------------------------


def setup_django(database_url: str, broker_url: str, queue: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def description(n: int) -> dict:
    lan = f"10.{(n // 250) % 250}.{n % 250}"
    data = {
        "name": f"Site {n:05d}",
        "vendor": VENDORS[n % len(VENDORS)],
        "host_os": ["windows", "linux"][(n // len(VENDORS)) % 2],
        "lan_network": f"{lan}.0/24",
        "lan_gateway": f"{lan}.1",
        "host_addressing": ["static", "static", "range", "dhcp"][n % 4],
        "public_address": f"198.18.{(n // 250) % 250}.{n % 250 + 1}" if n % 5 else None,
    }
    if data["host_addressing"] in ("static", "range"):
        data["host_address"] = f"{lan}.10"
    if data["host_addressing"] == "range":
        data.update(host_range_start=f"{lan}.10", host_range_end=f"{lan}.19")
    if n % 3 == 0 and data["host_addressing"] != "dhcp":
        data.update(monitoring_enabled=True, monitoring_sources=["198.51.100.7/32"])
    return data


def seed(count: int) -> dict:
    """Bulk-create the world above; return {"operator", "provider", "profile"}."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import OuterRef, Subquery

    from portal.accounts.models import Membership, Organisation, OrganisationKind, Role
    from sites.description import SiteDescription
    from sites.instructions import build_instructions, rollout_order, step_fingerprint, step_key
    from sites.models import InstructionSet, Rollout, RolloutStep, ServiceProfile, Site, StepState
    from sites.services.rollouts import follow_current_rollout, rollout_state_for

    profile = ServiceProfile.objects.default()
    profile_description = profile.as_spec()
    with transaction.atomic():
        provider = Organisation.objects.create(
            name="Bench provider", slug="bench-provider", kind=OrganisationKind.PROVIDER
        )
        operator = get_user_model().objects.create_user(username="bench-operator")
        Membership.objects.create(user=operator, organisation=provider, role=Role.OPERATOR)
        reseller = Organisation.objects.create(
            name="Bench reseller",
            slug="bench-reseller",
            kind=OrganisationKind.RESELLER,
            parent=provider,
        )
        customers = Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"Client {c:03d}",
                    slug=f"bench-client-{c:03d}",
                    kind=OrganisationKind.CUSTOMER,
                    parent=reseller,
                )
                for c in range(CLIENTS)
            ]
        )
        sites = []
        for n in range(count):
            data = SiteDescription.from_dict(description(n)).to_dict()
            sites.append(
                Site(
                    organisation=customers[n % CLIENTS],
                    name=data["name"],
                    vendor=data["vendor"],
                    profile=profile,
                    description=data,
                    public_address=data["public_address"],
                )
            )
        Site.objects.bulk_create(sites, batch_size=1000)

        sets, step_rows = [], []
        for site in sites:
            content = build_instructions(
                SiteDescription.from_dict(site.description), profile_description
            )
            sets.append(
                InstructionSet(
                    site=site,
                    version=1,
                    content_hash=content.content_hash,
                    profile=profile,
                    profile_revision=profile.revision,
                    renderers=content.renderers,
                    description=site.description,
                    rules=content.rules,
                    documents=content.documents,
                )
            )
            document_steps = [(vendor, s) for _, vendor, s in rollout_order(content.rendered)]
            done = site.pk % (len(document_steps) + 1)  # 0 to all steps done
            step_rows.append(
                [
                    RolloutStep(
                        position=i + 1,
                        vendor=vendor,
                        number=step.number,
                        key=step_key(vendor, step)[:400],
                        fingerprint=step_fingerprint(step),
                        title=step.title[:300],
                        kind=str(step.kind),
                        state=StepState.DONE if i < done else StepState.PENDING,
                    )
                    for i, (vendor, step) in enumerate(document_steps)
                ]
            )
        InstructionSet.objects.bulk_create(sets, batch_size=500)
        # Rollouts that keep step counts beside their state get them too.
        counted = {"steps_total", "steps_finished"} <= {f.name for f in Rollout._meta.fields}
        rollouts = [
            Rollout(
                site_id=s.site_id,
                instruction_set=s,
                state=rollout_state_for([r.state for r in rows]),
                **(
                    {
                        "steps_total": len(rows),
                        "steps_finished": sum(r.state == StepState.DONE for r in rows),
                    }
                    if counted
                    else {}
                ),
            )
            for s, rows in zip(sets, step_rows, strict=True)
        ]
        Rollout.objects.bulk_create(rollouts, batch_size=1000)
        for rollout, rows in zip(rollouts, step_rows, strict=True):
            for row in rows:
                row.rollout = rollout
        RolloutStep.objects.bulk_create([r for rows in step_rows for r in rows], batch_size=2000)
        Site.objects.update(
            current_instruction_set=Subquery(
                InstructionSet.objects.filter(site=OuterRef("pk")).values("pk")[:1]
            )
        )
        follow_current_rollout(Site.objects.all())
    return {"operator": operator, "provider": provider, "profile": profile}


# --- workers -------------------------------------------------------------------------------------


class Workers:
    """``celery worker`` (prefork, ``concurrency`` processes) for the length of a ``with``."""

    def __init__(self, concurrency: int, queue: str, log: Path):
        self.concurrency, self.queue, self.log = concurrency, queue, log

    def __enter__(self) -> Workers:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(self.concurrency),
            "--queues",
            self.queue,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-regenerate-{os.getpid()}@%h",
        ]
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=os.environ.copy(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: {self.log.read_text()[-3000:]}")
            if " ready." in self.log.read_text():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"the worker was not ready within 60 s: {self.log.read_text()[-3000:]}")

    def cpu(self) -> float | None:
        return process_tree_cpu(self.process.pid)

    def rss(self) -> int | None:
        return process_tree_rss(self.process.pid)

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def purge(queue: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "portal", "purge", "-f", "-Q", queue],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        timeout=60,
        check=False,
    )


def change_profile(world: dict, network: str):
    """The operator adds a datacenter network, through the service; returns its job."""
    from sites.services.profiles import update_service_profile

    profile = world["profile"]
    profile.refresh_from_db()
    data = profile.as_data()
    data["datacenter_networks"] = [*data["datacenter_networks"], network]
    return update_service_profile(
        profile=profile, data=data, by=world["operator"], organisation=world["provider"]
    )


def wait_for_job(job, workers: Workers, timeout: float, memory: list[int]) -> bool:
    """Wait for ``job`` to finish, printing its progress (as the job's row in the database
    says it: what the portal's page shows) every 10 s, and sampling the workers' resident
    memory (KiB) into ``memory`` every 0.25 s."""
    from portal.jobs.models import Job

    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 10
    while time.monotonic() < deadline:
        job.refresh_from_db()
        memory.append(workers.rss() or 0)
        if job.is_finished:
            return True
        if workers.process.poll() is not None:
            print("the worker exited")
            return False
        if time.monotonic() >= next_report:
            print(
                f"  ... {job.progress_done:,} of {job.progress_total:,} sites; workers' "
                f"memory {memory[-1] / 1024:.0f} MiB",
                flush=True,
            )
            next_report += 10
        time.sleep(0.25)
    return Job.objects.get(pk=job.pk).is_finished


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=os.cpu_count() or 2,
        help="worker processes (default: one per CPU)",
    )
    parser.add_argument("--sample", type=int, default=500, help="sites regenerated inline")
    parser.add_argument(
        "--database-url", help="a throwaway PostgreSQL database (its name with 'bench')"
    )
    parser.add_argument("--broker-url", help="default: embedded (SQLite), Redis (PostgreSQL)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the job")
    parser.add_argument("--worker-log", type=Path, help="keep the worker's log (INFO) in this file")
    args = parser.parse_args()

    started = time.perf_counter()
    database_url = prepare_database(args.database_url, DEFAULT_DB)
    if args.broker_url:
        broker_url = args.broker_url
    elif args.database_url:
        broker_url = "redis://127.0.0.1:6379/0"
    else:
        fresh_sqlite(DEFAULT_BROKER)
        broker_url = f"sqla+sqlite:///{DEFAULT_BROKER}"
    queue = f"bench-regenerate-{os.getpid()}"
    setup_django(database_url, broker_url, queue)

    import celery
    import django
    from django.db import connection

    from portal.audit.models import AuditEvent
    from portal.jobs.models import JobState
    from sites.models import InstructionSet, RolloutStep, Site
    from sites.services.instructions import regenerate_site, regenerate_sites
    from sites.tasks import CHUNK_SIZE

    print(
        f"regeneration benchmark: Python {platform.python_version()}, Django "
        f"{django.get_version()}, Celery {celery.__version__}; nproc {os.cpu_count()}, load "
        f"average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"database {connection.vendor} ({database_url.split('@')[-1]}); broker "
        f"{broker_url.split('@')[-1]}, queue {queue}"
    )
    t0 = time.perf_counter()
    world = seed(args.sites)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"seeded {args.sites:,} sites with current instructions in "
        f"{time.perf_counter() - t0:.1f} s ({InstructionSet.objects.count():,} instruction "
        f"sets, {RolloutStep.objects.count():,} rollout steps, "
        f"{RolloutStep.objects.filter(state='done').count():,} of them done)"
    )
    failures = []

    with tempfile.TemporaryDirectory(prefix="bench-regenerate-") as tmp:
        purge(queue)
        worker_log = args.worker_log or Path(tmp) / "worker.log"
        with Workers(args.concurrency, queue, worker_log) as workers:
            print(
                f"workers: celery prefork, concurrency {args.concurrency}, chunks of "
                f"{CHUNK_SIZE} sites\n"
            )
            cpu_before = workers.cpu()
            load_before = os.getloadavg()[0]
            t0 = time.perf_counter()
            memory = [workers.rss() or 0]
            job = change_profile(world, "198.51.100.0/24")
            finished = wait_for_job(job, workers, args.timeout, memory)
            elapsed = time.perf_counter() - t0
            cpu = (workers.cpu() or 0) - (cpu_before or 0) if cpu_before is not None else None
            if not finished or job.state != JobState.SUCCEEDED:
                log = worker_log.read_text()[-3000:]
                print(f"FAILED: job {job.pk} {job.state} after {elapsed:.0f} s; worker log:\n{log}")
                return 1
        revision = job.params["revision"]
        job_seconds = (job.finished_at - job.created_at).total_seconds()
        rate = args.sites / elapsed
        print(
            f"workers: {args.sites:,} sites in {elapsed:.1f} s (job {job_seconds:.1f} s from "
            f"its creation to its end) = {rate:,.0f} sites/s; load average "
            f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}"
        )
        quarter = max(1, len(memory) // 4)
        print(
            f"  workers' resident memory (all processes): {memory[0] / 1024:.0f} MiB before, "
            f"{max(memory[:quarter]) / 1024:.0f} MiB at most in the first quarter of the job, "
            f"{max(memory[-quarter:]) / 1024:.0f} MiB at most in the last, "
            f"{max(memory) / 1024:.0f} MiB at most ({len(memory)} samples)"
        )
        if cpu is not None:
            print(
                f"  worker CPU {cpu:.1f} s = {cpu * 1000 / args.sites:.2f} ms per site "
                f"({cpu / elapsed:.2f} CPUs busy on average)"
            )
        on_revision = Site.objects.filter(
            current_instruction_set__profile_revision=revision, current_instruction_set__version=2
        ).count()
        if on_revision != args.sites:
            failures.append(
                f"{on_revision:,} of {args.sites:,} sites on version 2, revision {revision}"
            )
        generated = AuditEvent.objects.filter(action="instructions.generated").count()
        if generated != args.sites:
            failures.append(
                f"{generated:,} 'instructions.generated' audit events, not {args.sites:,}"
            )
        print(
            f"  checked: {on_revision:,} sites on version 2 of revision {revision}; "
            f"{generated:,} audit events; {InstructionSet.objects.count():,} instruction sets"
        )

        # The peer: the same work inline, on a sample, after a second change (workers stopped;
        # its job stays queued and is purged below).
        change_profile(world, "203.0.113.128/25")
        ids = list(Site.objects.order_by("pk").values_list("pk", flat=True))
        step = max(1, len(ids) // args.sample)
        sample = ids[::step][: args.sample]
        cpu0, t0 = time.process_time(), time.perf_counter()
        new = sum(regenerate_site(site_id=pk)[1] for pk in sample)
        inline_elapsed = time.perf_counter() - t0
        inline_cpu = time.process_time() - cpu0
        # Not the peer, to tell batching from parallelism: other sites, as the chunk task does
        # them (``regenerate_sites``), in this one process.
        batch_sample = ids[1::step][: args.sample]
        cpu0, t0 = time.process_time(), time.perf_counter()
        outcome = regenerate_sites(site_ids=batch_sample)
        batch_elapsed = time.perf_counter() - t0
        batch_cpu = time.process_time() - cpu0
        purge(queue)
        new += sum(is_new for _, is_new in outcome.values())
        if new != len(sample) + len(batch_sample):
            failures.append(
                f"inline: {new} of {len(sample) + len(batch_sample)} sample sites got a new version"
            )
    per_site = inline_elapsed / len(sample)
    inline_total = per_site * args.sites
    print(
        f"inline (one process, no Celery, regenerate_site per site): {len(sample)} sites in "
        f"{inline_elapsed:.2f} s = {per_site * 1000:.2f} ms per site (CPU "
        f"{inline_cpu * 1000 / len(sample):.2f} ms), {1 / per_site:,.0f} sites/s; "
        f"{args.sites:,} sites would take {inline_total:.0f} s"
    )
    batch_per_site = batch_elapsed / len(batch_sample)
    print(
        f"  for comparison, regenerate_sites (the chunk task's batches) in this process: "
        f"{batch_per_site * 1000:.2f} ms per site (CPU "
        f"{batch_cpu * 1000 / len(batch_sample):.2f} ms); {args.sites:,} sites would take "
        f"{batch_per_site * args.sites:.0f} s"
    )
    print(
        f"workers vs inline: {rate * per_site:.2f}x the throughput with {args.concurrency} "
        f"worker processes ({rate * batch_per_site:.2f}x the batches in one process)"
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    met = elapsed <= TARGET_SECONDS * args.sites / 10_000
    verdict = "PASS" if met and not failures else "FAIL"
    scaled = "" if args.sites == 10_000 else f" (scaled to {args.sites:,} sites)"
    print(f"target <= {TARGET_SECONDS:.0f} s for 10,000 sites{scaled}: {elapsed:.1f} s: {verdict}")
    print(
        f"load average {os.getloadavg()[0]:.2f} at end; whole run "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
