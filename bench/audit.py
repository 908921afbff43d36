"""Benchmark: searching and exporting an audit trail of 1,000,000 to 10,000,000 events.

Target (issue #15): every search of the audit trail (by organisation, site, person, action,
source and time range, and one object's history) answers in p95 <= 200 ms on PostgreSQL at
10,000,000 events, and an export of a million rows streams with constant memory.

What is seeded, in the database ``DATABASE_URL`` names (its name must contain "bench"; without it
a SQLite file ``var/bench-audit.sqlite3``): a provider, 20 resellers with 50 customers each, two
people per customer, a reseller admin each, 5 sites per customer, and ``--events`` events over the
last 400 days in time order (as they arrive), spread over the customers (a few much busier than
the rest), their people, workers and commands, 24 actions (sign-ins, site and step changes,
probe outcomes…), the four sources, each on a site, a probe run or a person. On PostgreSQL the
events are made by the database itself (``INSERT … SELECT … FROM generate_series``) with the
table's secondary indexes dropped meanwhile and rebuilt after (as a bulk load is done); on
SQLite by batched inserts. A database that already holds the bench's events of that number is
reused (``--keep`` keeps the SQLite file).

Then, through Django's test ``Client`` (the whole stack, templates included), as support (the
provider's whole trail) and as a reseller admin (its clients'), it requests each kind of search
``--requests`` times in all, round robin, and prints p50 and p95 per kind and overall; then it
exports ``--export-rows`` rows (default 1,000,000) as CSV through the export view, reading the
stream to the end, and prints its time and the process's resident memory before, during (the
highest sample) and after.

Run from the repository root::

    createdb -h 127.0.0.1 -U postgres bench_audit
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_audit .venv/bin/python bench/audit.py --events 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from bench._common import client_settings, percentile, setup_django  # noqa: E402

DEFAULT_DB = REPO_ROOT / "var" / "bench-audit.sqlite3"

P95_TARGET_MS = 200.0
RESELLERS, CUSTOMERS_EACH, SITES_EACH = 20, 50, 5
DAYS = 400
ACTIONS = [
    # (action, object type, weight)
    ("auth.login", "accounts.user", 20),
    ("auth.logout", "accounts.user", 8),
    ("auth.login_failed", "", 3),
    ("site.created", "sites.site", 2),
    ("site.updated", "sites.site", 6),
    ("instructions.generated", "sites.instructionset", 8),
    ("rollout.step_changed", "sites.rolloutstep", 14),
    ("probe.check_requested", "sites.proberun", 6),
    ("probe.proven", "sites.proberun", 9),
    ("probe.failed", "sites.proberun", 2),
    ("probe.expired", "sites.proberun", 3),
    ("probe.waiting", "sites.proberun", 2),
    ("job.queued", "jobs.job", 2),
    ("job.succeeded", "jobs.job", 2),
    ("permission.denied", "", 1),
    ("membership.created", "accounts.membership", 1),
    ("api_token.created", "api.apitoken", 1),
    ("mfa.verified", "accounts.user", 4),
    ("profile.updated", "sites.serviceprofile", 1),
    ("audit.exported", "", 1),
    ("organisation.updated", "accounts.organisation", 1),
    ("invitation.sent", "accounts.invitation", 1),
    ("session.ended", "accounts.user", 1),
    ("site.transferred", "sites.site", 1),
]
SOURCES = ["web", "web", "web", "api", "worker", "worker", "command"]


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the SQLite file")
    return parser.parse_args()


def seed_world() -> dict:
    """Organisations, people and sites (small: ORM bulk inserts)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from portal.accounts.models import Membership, Organisation, OrganisationKind, Role
    from sites.models import Site

    User = get_user_model()
    password = make_password("bench")
    provider = Organisation.objects.create(
        name="Audit bench provider", slug="audit-bench", kind=OrganisationKind.PROVIDER
    )
    support = User.objects.create(username="audit-bench-support", password=password)
    Membership.objects.create(user=support, organisation=provider, role=Role.SUPPORT)
    resellers = Organisation.objects.bulk_create(
        Organisation(
            name=f"Audit reseller {r:02d}",
            slug=f"audit-reseller-{r:02d}",
            kind=OrganisationKind.RESELLER,
            parent=provider,
        )
        for r in range(RESELLERS)
    )
    admins = User.objects.bulk_create(
        User(username=f"audit-reseller-{r:02d}-admin", password=password) for r in range(RESELLERS)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organisation=reseller, role=Role.RESELLER_ADMIN)
        for user, reseller in zip(admins, resellers, strict=True)
    )
    customers = Organisation.objects.bulk_create(
        Organisation(
            name=f"Audit customer {r:02d}-{c:02d}",
            slug=f"audit-customer-{r:02d}-{c:02d}",
            kind=OrganisationKind.CUSTOMER,
            parent=reseller,
        )
        for r, reseller in enumerate(resellers)
        for c in range(CUSTOMERS_EACH)
    )
    people = User.objects.bulk_create(
        User(
            username=f"{customer.slug}-p{p}",
            first_name=["Ana", "Ben", "Chloé", "Dara"][(i + p) % 4],
            last_name=f"Person{i:04d}",
            password=password,
        )
        for i, customer in enumerate(customers)
        for p in range(2)
    )
    Membership.objects.bulk_create(
        Membership(user=person, organisation=customers[i // 2], role=Role.CUSTOMER_ADMIN)
        for i, person in enumerate(people)
    )
    Site.objects.bulk_create(
        Site(organisation=customer, name=f"Audit site {i:04d}-{s}", vendor="fortigate")
        for i, customer in enumerate(customers)
        for s in range(SITES_EACH)
    )
    return {"customers": customers, "people": people}


def seed_events_postgresql(count: int) -> None:
    """``count`` events made by the database, in time order, the secondary indexes rebuilt
    after the load."""
    from django.db import connection

    from portal.accounts.models import Organisation
    from sites.models import Site

    customers = list(
        Organisation.objects.filter(slug__startswith="audit-customer-")
        .order_by("pk")
        .values_list("pk", "name", "parent_id")
    )
    first_customer, customer_count = customers[0][0], len(customers)
    first_site = Site.objects.filter(name__startswith="Audit site ").order_by("pk")[0].pk
    from django.contrib.auth import get_user_model

    first_person = (
        get_user_model().objects.filter(username__startswith="audit-customer-").order_by("pk")[0].pk
    )
    actions = [a for a, _, weight in ACTIONS for _ in range(weight)]
    types = {a: t for a, t, _ in ACTIONS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' "
            "AND indexname <> 'audit_auditevent_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # One customer in 50 is ten times busier than the rest (hot tenants exist).
        cursor.execute(
            f"""
            WITH a AS (SELECT * FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY
                       AS t(action, object_type, n)),
                 s AS (SELECT * FROM unnest(%s::text[]) WITH ORDINALITY AS t(source, n)),
                 o AS (SELECT * FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY
                       AS t(name, reseller, n))
            INSERT INTO audit_auditevent (occurred_at, actor_kind, actor_user_id, actor_label,
                organisation_id, organisation_name, reseller_id, action, object_type, object_id, object_repr,
                before, after, source, request_id, ip_address)
            SELECT now() - interval '{DAYS} days' + (g::float8 / %s) * interval '{DAYS} days',
                   CASE WHEN src.source IN ('worker', 'command') THEN src.source ELSE 'person' END,
                   CASE WHEN src.source IN ('worker', 'command') THEN NULL
                        ELSE {first_person} + c * 2 + (g %% 2) END,
                   CASE WHEN src.source = 'worker' THEN 'worker'
                        WHEN src.source = 'command' THEN 'command:sync'
                        ELSE format('audit-customer-%%s-%%s-p%%s', lpad((c / 50)::text, 2, '0'),
                                    lpad((c %% 50)::text, 2, '0'), g %% 2) END,
                   {first_customer} + c, org.name, org.reseller, a.action, a.object_type,
                   CASE a.object_type WHEN 'sites.site' THEN ({first_site} + c * {SITES_EACH} + g %% {SITES_EACH})::text
                        WHEN '' THEN '' ELSE (g %% 100000)::text END,
                   'Object ' || (g %% 100000),
                   CASE WHEN a.action = 'site.updated' THEN '{{"reverify": "weekly"}}'::jsonb END,
                   CASE WHEN a.action = 'site.updated' THEN '{{"reverify": "daily"}}'::jsonb END,
                   src.source, md5(g::text), ('198.51.100.' || (g %% 250))::inet
            FROM generate_series(1, %s) AS g
            CROSS JOIN LATERAL (
                SELECT CASE WHEN g %% 10 = 0 THEN (g / 10 %% 20) * 50
                            ELSE (hashint4(g) & 2147483647) %% {customer_count} END AS c
            ) pick
            JOIN a ON a.n = 1 + (hashint4(g + 7) & 2147483647) %% {len(actions)}
            JOIN s src ON src.n = 1 + (hashint4(g + 13) & 2147483647) %% {len(SOURCES)}
            JOIN o org ON org.n = 1 + pick.c
            """,
            [
                actions,
                [types[a] for a in actions],
                SOURCES,
                [name for _, name, _ in customers],
                [reseller for _, _, reseller in customers],
                count,
                count,
            ],
        )
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE audit_auditevent")


def seed_events_sqlite(count: int) -> None:
    from django.utils import timezone

    from bench._common import bulk_load, next_ids
    from portal.accounts.models import Organisation
    from portal.audit.models import AuditEvent
    from sites.models import Site

    customers = list(
        Organisation.objects.filter(slug__startswith="audit-customer-")
        .order_by("pk")
        .values_list("pk", "name", "slug", "parent_id")
    )
    first_site = Site.objects.filter(name__startswith="Audit site ").order_by("pk")[0].pk
    from django.contrib.auth import get_user_model

    first_person = (
        get_user_model().objects.filter(username__startswith="audit-customer-").order_by("pk")[0].pk
    )
    actions = [(a, t) for a, t, weight in ACTIONS for _ in range(weight)]
    start = timezone.now() - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / count
    first = next_ids(AuditEvent)

    def rows():
        for g in range(1, count + 1):
            c = (g // 10 % 20) * 50 if g % 10 == 0 else hash((g, 1)) % len(customers)
            action, object_type = actions[hash((g, 7)) % len(actions)]
            source = SOURCES[hash((g, 13)) % len(SOURCES)]
            machine = source in ("worker", "command")
            yield {
                "id": first + g - 1,
                "occurred_at": start + step * g,
                "actor_kind": source if machine else "person",
                "actor_user_id": None if machine else first_person + c * 2 + g % 2,
                "actor_label": {"worker": "worker", "command": "command:sync"}.get(
                    source, customers[c][2]
                ),
                "organisation_id": customers[c][0],
                "organisation_name": customers[c][1],
                "reseller_id": customers[c][3],  # what record_event writes for a client's event
                "action": action,
                "object_type": object_type,
                "object_id": str(first_site + c * SITES_EACH + g % SITES_EACH)
                if object_type == "sites.site"
                else ""
                if not object_type
                else str(g % 100000),
                "object_repr": f"Object {g % 100000}",
                "source": source,
                "request_id": f"{g:032x}",
                "ip_address": f"198.51.100.{g % 250}",
            }

    bulk_load(AuditEvent, rows())


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    database = setup_django(DEFAULT_DB, keep=args.keep)

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client

    from portal.accounts.models import Organisation
    from portal.audit.models import AuditEvent
    from sites.models import Site

    print(f"bench/audit.py — Python {platform.python_version()}, {connection.vendor} ({database})")
    print(f"machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f}")
    if not Organisation.objects.filter(slug="audit-bench").exists():
        if AuditEvent.objects.filter(action__in=[a for a, _, _ in ACTIONS]).exists():
            print("The database holds other events: give an empty database of its own.")
            return 2
        t0 = time.perf_counter()
        with transaction.atomic():
            seed_world()
            if connection.vendor == "postgresql":
                seed_events_postgresql(args.events)
            else:
                seed_events_sqlite(args.events)
        if connection.vendor == "postgresql":
            connection.cursor().execute("VACUUM ANALYZE")  # every table: the planner needs them all
        print(f"seeded {args.events:,} events in {time.perf_counter() - t0:.1f} s")
    total = AuditEvent.objects.count()
    size = f"{total:,} events"
    print(
        f"  {size}; {Organisation.objects.count():,} organisations, {Site.objects.count():,} sites"
    )
    if abs(total - args.events) > args.events // 100:
        print(
            f"This database holds {total:,} events, not {args.events:,}: the figures are for {size}."
        )

    User = get_user_model()
    busy = Organisation.objects.filter(slug__startswith="audit-customer-").order_by("pk")[0]
    quiet = Organisation.objects.filter(slug__startswith="audit-customer-").order_by("pk")[7]
    site = Site.objects.filter(organisation=busy).order_by("pk")[0]
    person = User.objects.filter(username__startswith=f"{quiet.slug}-p").order_by("pk")[0]
    reseller = quiet.parent
    month_ago = (time.time() - 30 * 86400, time.time() - 23 * 86400)
    day = time.strftime("%Y-%m-%d", time.gmtime(month_ago[0]))
    week_later = time.strftime("%Y-%m-%d", time.gmtime(month_ago[1]))
    provider = "/o/audit-bench/audit/"
    mix = [
        ("support", "newest (everything)", provider),
        ("support", "page 2", f"{provider}?page=2"),
        ("support", "page 150", f"{provider}?page=150"),
        ("support", "organisation (busy)", f"{provider}?organisation={busy.slug}"),
        ("support", "organisation (quiet)", f"{provider}?organisation={quiet.slug}"),
        ("support", "site by name", f"{provider}?site={site.name.replace(' ', '+')}"),
        ("support", "person", f"{provider}?person={person.username}"),
        ("support", "action", f"{provider}?action=site.updated"),
        ("support", "action family", f"{provider}?action=probe.*"),
        ("support", "source", f"{provider}?source=api"),
        ("support", "one week a month ago", f"{provider}?date_from={day}&date_to={week_later}"),
        (
            "support",
            "organisation + action + week",
            f"{provider}?organisation={quiet.slug}&action=auth.login&date_from={day}&date_to={week_later}",
        ),
        ("support", "object history (site)", f"{provider}object/sites.site/{site.pk}/"),
        ("reseller", "reseller: newest", f"/o/{reseller.slug}/audit/"),
        ("reseller", "reseller: action", f"/o/{reseller.slug}/audit/?action=probe.failed"),
        ("support", "API: newest", "/api/o/audit-bench/audit/"),
        ("support", "API: source + dates", f"/api/o/audit-bench/audit/?source=api&date_from={day}"),
    ]
    # The process as the WSGI server's (portal.wsgi): everything loaded, then out of the garbage
    # collector's reach (gc.freeze), as a served request finds it.
    import portal.wsgi  # noqa: F401

    with client_settings():
        clients = {}
        for label, username in (
            ("support", "audit-bench-support"),
            ("reseller", f"{reseller.slug}-admin"),
        ):
            clients[label] = Client()
            clients[label].force_login(User.objects.get(username=username))

        def get(who, url):
            response = clients[who].get(url, headers={"HX-Request": "true"})
            assert response.status_code == 200, (url, response.status_code)
            return response

        for who, _, url in mix:
            get(who, url)  # warm
        timings: dict[str, list[float]] = {}
        for i in range(args.requests):
            who, name, url = mix[i % len(mix)]
            t0 = time.perf_counter_ns()
            get(who, url)
            timings.setdefault(name, []).append((time.perf_counter_ns() - t0) / 1e6)

        print(f"\nlatency per kind of search, {size} (ms; {args.requests} requests in all):")
        for name, values in timings.items():
            print(
                f"  {name:<30} p50 {percentile(values, 0.5):7.1f}   p95 {percentile(values, 0.95):7.1f}"
            )
        every = [t for values in timings.values() for t in values]
        p50, p95 = percentile(every, 0.5), percentile(every, 0.95)
        worst = max(timings, key=lambda name: percentile(timings[name], 0.95))
        print(
            f"\n{size}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(every)} requests; "
            f"slowest kind {worst!r} p95 {percentile(timings[worst], 0.95):.1f} ms"
        )

        # The export: the newest --export-rows events (a date range holding about that many).
        newest = AuditEvent.objects.order_by("-occurred_at", "-id").values_list(
            "occurred_at", flat=True
        )[min(args.export_rows, total) - 1]
        since = newest.strftime("%Y-%m-%d")
        before = rss_kib()
        t0 = time.perf_counter()
        response = clients["support"].get(f"/o/audit-bench/audit/export.csv?date_from={since}")
        assert response.status_code == 200 and response.streaming
        lines, peak, read = 0, before, 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            read += len(chunk)
            if lines % 20000 < 2:
                peak = max(peak, rss_kib())
        peak = max(peak, rss_kib())
        elapsed = time.perf_counter() - t0
    print(
        f"\nexport CSV since {since}: {lines - 1:,} rows, {read / 1e6:.0f} MB in {elapsed:.1f} s; "
        f"resident memory {before / 1024:.0f} MiB before, at most {peak / 1024:.0f} MiB while "
        f"streaming (+{(peak - before) / 1024:.0f} MiB)"
    )
    print(
        f"target p95 <= {P95_TARGET_MS:.0f} ms at {size}: {'met' if p95 <= P95_TARGET_MS else 'MISSED'}"
    )
    print(
        f"load average at end {os.getloadavg()[0]:.2f}; whole run {time.perf_counter() - started:.0f} s"
    )
    return 0 if p95 <= P95_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
