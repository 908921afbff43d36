"""Benchmark: the reseller's site dashboard at 1,000 to 100,000 sites (``--sites``).

Targets: DESIGN.md ("Targets"), p95 <= 100 ms at 10,000 sites with a query count that does not grow
with the number of sites; issue #15, the same p95 at 100,000 sites on PostgreSQL.

What is seeded (in a fresh SQLite file ``var/bench-dashboard.sqlite3``, or in the database
``DATABASE_URL`` names; that database is migrated and must not hold other bench data): with COPY
on PostgreSQL, batched inserts on SQLite (``bench._common.bulk_load``), ids given up front:

- reseller "bench-big" with ``--sites`` sites in clients of ``--sites-per-client`` (default 100:
  10,000 sites in 100 clients), and reseller "bench-small" with 4 clients of 25 sites (100 sites):
  the same page at both sizes;
- every site a realistic description (14 vendors, static / range / DHCP hosts, Windows or Linux,
  some with monitoring); 12 in 13 sites have a real instruction set (documents and rules rendered
  by the real renderers once per vendor × host OS × addressing × monitoring and reused), a
  rollout with its step counts and its real steps, with 0 to all steps done or skipped, one
  rollout in 9 failed;
- outbound verify probe runs: 5 sites in 10 proven recently, 1 proven 10 days ago (stale), 1
  proven then failed, 1 with an old proof and an open run waiting on the customer, 1 with an
  expired run only, the rest never probed;
- each site's proof summary (and whether it waits on its customer), by the service's own
  ``refresh_proof_summary``; then ``VACUUM
  ANALYZE`` (PostgreSQL) or ``ANALYZE`` (SQLite), as autovacuum would after a bulk load.

Then, through Django's test ``Client`` (the whole middleware stack, templates included), it
requests the dashboard as the big reseller's admin ``--requests`` times (default 400) over a mix
of filters, searches, sorts and pages (first, numbered, the middle of the list as a Next link
carries it, last), full pages and htmx partials, the headline's poll, the sites API's list (its
first page, and a page from the middle as its next link carries it) and the organisation's home
page (its figures and clients). It prints p50 and p95 per kind of request and overall, labelled
with the real number of sites, and the time of the headline counts as a worker makes them. For each kind of request it counts the queries
(``CaptureQueriesContext``) for the big reseller and for the small one: the counts must be equal.

Run from the repository root::

    .venv/bin/python bench/dashboard.py [--sites N] [--sites-per-client N] [--requests N] [--keep]

``--keep`` keeps the SQLite file and reuses it on the next run (seeding skipped). On PostgreSQL,
give an empty database of its own (``createdb -h 127.0.0.1 -U postgres bench_dashboard``, then
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dashboard``): it is seeded on the first
run and reused on the next ones (one database per size).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from bench._common import client_settings, percentile, setup_django  # noqa: E402

DEFAULT_DB = REPO_ROOT / "var" / "bench-dashboard.sqlite3"

P95_TARGET_MS = 100.0
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
HOST_OS = ["windows", "linux"]


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Without DATABASE_URL: a fresh SQLite file, var/bench-dashboard.sqlite3.\n"
        "On PostgreSQL: an empty database of its own, seeded on the first run and reused after:\n"
        "  createdb -h 127.0.0.1 -U postgres bench_dashboard\n"
        "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dashboard .venv/bin/python bench/dashboard.py",
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument(
        "--sites", type=int, default=10_000, help="sites of the big reseller (default 10,000)"
    )
    parser.add_argument(
        "--sites-per-client",
        type=int,
        default=100,
        help="sites per client organisation (default 100: --sites 100000 makes 1,000 clients)",
    )
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the SQLite file")
    return parser.parse_args()


def description(n: int, name: str) -> dict:
    lan = f"10.{(n // 250) % 250}.{n % 250}"
    vendor, host_os = VENDORS[n % len(VENDORS)], HOST_OS[(n // len(VENDORS)) % 2]
    data = {
        "name": name,
        "vendor": vendor,
        "lan_network": f"{lan}.0/24",
        "lan_gateway": f"{lan}.1",
        "host_addressing": ["static", "static", "range", "dhcp"][n % 4],
        "host_os": host_os,
        "public_address": f"198.18.{(n // 250) % 250}.{n % 250 + 1}" if n % 5 else None,
    }
    if data["host_addressing"] in ("static", "range"):
        data["host_address"] = f"{lan}.10"
    if data["host_addressing"] == "range":
        data.update(host_range_start=f"{lan}.10", host_range_end=f"{lan}.19")
    if n % 3 == 0 and data["host_addressing"] != "dhcp":
        data.update(monitoring_enabled=True, monitoring_sources=["198.51.100.7/32"])
    return data


def normalised(raw: dict, defaults: dict, n: int) -> dict:
    """``raw`` as ``SiteDescription.from_dict(raw).to_dict()`` gives it, without validating
    100,000 descriptions one by one (about 0.4 ms each): validation only adds the defaults of
    the fields a description leaves out, so it runs in full for the first description of each
    set of fields and for every 1,000th site, which must then equal the fast form (else the
    seed stops); the others get the defaults their set of fields was given (``defaults``)."""
    from sites.description import SiteDescription

    shape = frozenset(raw)
    if shape in defaults and n % 1000:
        return {**defaults[shape], **raw}
    full = SiteDescription.from_dict(raw).to_dict()
    if shape in defaults and {**defaults[shape], **raw} != full:
        raise SystemExit(f"site {n}: the fast description differs from the validated one")
    defaults[shape] = {key: value for key, value in full.items() if key not in raw}
    return full


def load_instruction_sets(sets: list[dict], contents: list[dict]) -> None:
    """The instruction sets' rows (``bulk_load``), each with the rendered content (renderers,
    rules, documents: ``contents[row["shape"]]``) of its kind of site. On PostgreSQL the
    content goes in once per kind, into a staging table, and each row takes its kind's by
    ``INSERT … SELECT``: the database then parses and compresses each document once, not once
    per site (about ten times faster for the 6 KB of a site's documents)."""
    from django.db import connection

    from bench._common import bulk_load
    from sites.models import InstructionSet

    if connection.vendor != "postgresql":
        bulk_load(InstructionSet, ({**row, **contents[row["shape"]]} for row in sets))
        return
    content = ["renderers", "rules", "documents"]
    columns = [field.column for field in InstructionSet._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_content (shape integer PRIMARY KEY, renderers jsonb, "
            "rules jsonb, documents jsonb)"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_sets (LIKE sites_instructionset INCLUDING DEFAULTS, "
            "shape integer)"
        )
        with (
            cursor.connection.cursor() as raw,
            raw.copy("COPY bench_content FROM STDIN") as copy,
        ):
            for each in contents:
                copy.write_row([each["shape"], *(each[name] for name in content)])
        # The staging rows need some JSON where the content goes: the smallest.
        bulk_load(
            InstructionSet,
            ({**row, **dict.fromkeys(content, "null")} for row in sets),
            table="bench_sets",
            extra=("shape",),
        )
        cursor.execute(
            f"INSERT INTO sites_instructionset ({', '.join(columns)}) SELECT "
            + ", ".join(f"c.{name}" if name in content else f"s.{name}" for name in columns)
            + " FROM bench_sets s JOIN bench_content c USING (shape)"
        )
        cursor.execute("DROP TABLE bench_content, bench_sets")


def seed(clients: int, per_client: int, phases: dict[str, float]) -> dict:
    """Load the two resellers' worlds with COPY (PostgreSQL) or batched inserts (SQLite); the
    seconds each phase took are added to ``phases``."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from bench._common import bulk_load, next_ids, reset_sequences, secondary_indexes_dropped
    from portal.accounts.models import Membership, Organisation, OrganisationKind, Role
    from sites.description import SiteDescription
    from sites.instructions import build_instructions, rollout_order, step_fingerprint, step_key
    from sites.models import (
        InstructionSet,
        ProbeRun,
        Rollout,
        RolloutStep,
        ServiceProfile,
        Site,
        StepState,
    )
    from sites.services.proof import refresh_proof_summary
    from sites.services.rollouts import FINISHED_STATES, rollout_state_for

    User = get_user_model()
    profile = ServiceProfile.objects.default()
    profile_data = profile.as_spec()
    now = timezone.now()
    rendered = {}  # (vendor, host_os, addressing, monitoring) → (content JSON, step templates)
    defaults: dict = {}  # a description's set of fields → the defaults validation adds to it

    def content_for(data):
        key = (
            data["vendor"],
            data["host_os"],
            data["host_addressing"],
            bool(data.get("monitoring_enabled")),
        )
        if key not in rendered:
            content = build_instructions(SiteDescription.from_dict(data), profile_data)
            steps = [
                {
                    "vendor": vendor,
                    "number": step.number,
                    "key": step_key(vendor, step)[:400],
                    "fingerprint": step_fingerprint(step),
                    "title": step.title[:300],
                    "kind": str(step.kind),
                }
                for _, vendor, step in rollout_order(
                    InstructionSet(documents=content.documents).rendered
                )
            ]
            columns = {
                "shape": len(rendered),
                "renderers": json.dumps(content.renderers),
                "rules": json.dumps(content.rules),
                "documents": json.dumps(content.documents),
            }
            rendered[key] = (columns, steps)
        return rendered[key]

    with transaction.atomic():
        provider, _ = Organisation.objects.get_or_create(
            slug="bench-provider",
            defaults={"name": "Bench provider", "kind": OrganisationKind.PROVIDER},
        )
        result = {}
        n = 0
        site_id, set_id, rollout_id, step_id, run_id = (
            next_ids(model) for model in (Site, InstructionSet, Rollout, RolloutStep, ProbeRun)
        )
        sites, sets, rollouts, steps, runs = [], [], [], [], []
        for label, reseller_slug, count, sites_each in (
            ("big", "bench-big", clients, per_client),
            ("small", "bench-small", 4, 25),
        ):
            reseller = Organisation.objects.create(
                name=f"Bench {label} reseller",
                slug=reseller_slug,
                kind=OrganisationKind.RESELLER,
                parent=provider,
            )
            customers = Organisation.objects.bulk_create(
                [
                    Organisation(
                        name=f"{label.title()} client {c:04d}",
                        slug=f"{reseller_slug}-client-{c:04d}",
                        kind=OrganisationKind.CUSTOMER,
                        parent=reseller,
                    )
                    for c in range(count)
                ]
            )
            user = User.objects.create_user(username=f"{reseller_slug}-admin", password="bench")
            Membership.objects.create(user=user, organisation=reseller, role=Role.RESELLER_ADMIN)
            result[label] = (user, reseller_slug, customers[0].slug)

            built = time.perf_counter()
            for customer in customers:
                for _s in range(sites_each):
                    data = normalised(description(n, f"Site {n:06d}"), defaults, n)
                    k, reverify, n = site_id, ["weekly", "weekly", "daily", "off"][n % 4], n + 1
                    site_id += 1
                    described = k % 13 != 0
                    sites.append(
                        {
                            "id": k,
                            "organisation_id": customer.pk,
                            "name": data["name"],
                            "vendor": data["vendor"],
                            "profile_id": profile.pk,
                            "description": data,
                            "public_address": data["public_address"],
                            "reverify": reverify,
                            "current_instruction_set_id": set_id if described else None,
                        }
                    )
                    if not described:
                        continue
                    columns, templates = content_for(data)
                    sets.append(
                        {
                            "id": set_id,
                            "site_id": k,
                            "version": 1,
                            "content_hash": hashlib.sha256(f"bench-{k}".encode()).hexdigest(),
                            "profile_id": profile.pk,
                            "profile_revision": profile.revision,
                            "description": data,
                            "shape": columns["shape"],  # its content: load_instruction_sets
                        }
                    )
                    finished = k % (len(templates) + 1)
                    states = [
                        StepState.DONE if i < finished else StepState.PENDING
                        for i in range(len(templates))
                    ]
                    if k % 9 == 0 and finished < len(states):
                        states[finished] = StepState.FAILED
                    if k % 7 == 0 and finished:
                        states[0] = StepState.SKIPPED
                    counts = {
                        "steps_total": len(states),
                        "steps_finished": sum(s in FINISHED_STATES for s in states),
                    }
                    rollout_state = rollout_state_for(states)
                    rollouts.append(
                        {
                            "id": rollout_id,
                            "site_id": k,
                            "instruction_set_id": set_id,
                            "state": rollout_state,
                            **counts,
                        }
                    )
                    # The site's copy of its current rollout's counts and state
                    # (sites.services.rollouts).
                    sites[-1].update({f"rollout_{key}": value for key, value in counts.items()})
                    sites[-1]["current_rollout_state"] = rollout_state
                    for i, (template, state) in enumerate(zip(templates, states, strict=True)):
                        steps.append(
                            {
                                "id": step_id,
                                "rollout_id": rollout_id,
                                "position": i + 1,
                                "state": state,
                                **template,
                            }
                        )
                        step_id += 1

                    def run(state, days_ago, *, open_for=None, _k=k, _set=set_id, _runs=runs):
                        nonlocal run_id
                        finished_at = now - timedelta(days=days_ago, hours=_k % 20)
                        _runs.append(
                            {
                                "id": run_id,
                                "site_id": _k,
                                "instruction_set_id": _set,
                                "direction": "outbound",
                                "purpose": "verify",
                                "state": state,
                                "expected": [{"protocol": "tcp", "port": 4401}],
                                "token": f"bench.{_k}.{run_id}",
                                "expires_at": now + open_for
                                if open_for
                                else finished_at + timedelta(minutes=30),
                                "finished_at": None if open_for else finished_at,
                                # The age of a settled run is its finish time.
                                "created_at": now if open_for else finished_at,
                            }
                        )
                        run_id += 1

                    kind = k % 10
                    if kind < 5:
                        run("proven", kind % 3)
                    elif kind == 5:
                        run("proven", 10)
                    elif kind == 6:
                        run("proven", 3)
                        run("failed", 1)
                    elif kind == 7:
                        run("proven", 12)
                        run("waiting", 0, open_for=timedelta(minutes=25))
                    elif kind == 8:
                        run("expired", 2)
                    set_id += 1
                    rollout_id += 1
            phases["rows built (Python)"] += time.perf_counter() - built
        loading = time.perf_counter()
        with secondary_indexes_dropped(Site, InstructionSet, Rollout, RolloutStep, ProbeRun):
            bulk_load(Site, sites)
            load_instruction_sets(sets, [columns for columns, _ in rendered.values()])
            bulk_load(Rollout, rollouts)
            bulk_load(RolloutStep, steps)
            bulk_load(ProbeRun, runs)
            phases["loaded"] = time.perf_counter() - loading
            indexed = time.perf_counter()
        phases["indexes built"] = time.perf_counter() - indexed
        reset_sequences(Site, InstructionSet, Rollout, RolloutStep, ProbeRun)
        # What sites.services.proof keeps as runs settle: each site's proof summary.
        summarised = time.perf_counter()
        refresh_proof_summary(site_ids=Site.objects.values("pk"))
        phases["proof summaries"] = time.perf_counter() - summarised
    return result


def middle_of(user, slug: str, sort: str) -> str:
    """The query string of the page in the middle of the list sorted by ``sort``, as a Next link
    there carries it (the position of the row before it); found once, before the timing."""
    from django.http import QueryDict

    from portal.accounts.models import Organisation
    from portal.accounts.permissions import Actor
    from sites.selectors.dashboard import dashboard_filterset

    query = QueryDict(mutable=True)
    if sort:
        query["sort"] = sort
    filterset = dashboard_filterset(
        Actor.for_user(user), Organisation.objects.get(slug=slug), query
    )
    sites, ordering = filterset.matching(), filterset.ordering
    row = sites.values("pk", *(alias for alias, _, _ in ordering.keys))[sites.count() // 2]
    query["after"] = ordering.position_of(row)
    return query.urlencode()


def headline_count_times(user, slug: str, *, times: int = 5) -> list[float]:
    """Milliseconds of ``times`` counts of the headline of ``slug``'s dashboard for ``user``,
    each made as the worker makes it (``sites.services.dashboard_counts.count``)."""
    from django.utils import timezone

    from portal.accounts.models import Organisation
    from sites.models import DashboardCounts
    from sites.services import dashboard_counts

    organisation = Organisation.objects.get(slug=slug)
    row, _ = DashboardCounts.objects.get_or_create(organisation=organisation, user=user)
    elapsed = []
    for _ in range(times):
        DashboardCounts.objects.filter(pk=row.pk).update(requested_at=timezone.now())
        t0 = time.perf_counter_ns()
        dashboard_counts.count(row.pk)
        elapsed.append((time.perf_counter_ns() - t0) / 1e6)
    return elapsed


API = "api:"  # a query of the mix with this prefix goes to the sites API's list
HOME = "home"  # this query of the mix is the organisation's home page


def request_mix(customer_slug: str, middles: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(kind, query string, htmx) of the requests timed, in the order they repeat."""
    return [
        ("default (first page)", "", False),
        ("page 2", "page=2", False),
        ("page 100 (numbered)", "page=100", True),
        ("middle page, default sort", middles[""], True),
        ("last page", "page=last", True),
        ("sort by last probe desc", "sort=-probe", False),
        ("sort by last probe, middle", middles["probe"], True),
        ("sort by rollout", "sort=rollout", True),
        ("sort by rollout, middle", middles["-rollout"], True),
        ("sort by updated, middle", middles["-updated"], True),
        ("sort by organisation desc", "sort=-organisation", True),
        ("sort by vendor, last page", "sort=vendor&page=last", True),
        ("vendor", "vendor=fortigate", True),
        ("flag stale", "flag=stale", True),
        ("flag needs attention", "flag=attention", False),
        ("flag waiting, page 2", "flag=waiting&page=2", True),
        ("flag proven, sort name desc", "flag=fresh&sort=-name", True),
        ("rollout in progress", "rollout=in_progress", True),
        ("no instructions", "rollout=none", True),
        ("search", "q=0042", True),
        ("search + flag", "q=1&flag=failing", True),
        ("one organisation", f"organisation={customer_slug}", True),
        ("organisation + sort probe", f"organisation={customer_slug}&sort=probe", True),
        ("vendor + rollout + flag", "vendor=meraki&rollout=in_progress&flag=attention", True),
        ("headline poll", "headline=1", True),
        ("API: first page", API, False),
        ("API: middle, a next link", API + middles[""], False),
        ("home page", HOME, False),
    ]


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    database = setup_django(DEFAULT_DB, keep=args.keep)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from portal.accounts.models import Organisation
    from sites.models import ProbeRun, RolloutStep, Site

    clients_count = max(1, args.sites // args.sites_per_client)
    print(
        f"bench/dashboard.py — Python {platform.python_version()}, {connection.vendor} ({database})"
    )
    print(f"machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f}")
    if not Organisation.objects.filter(slug="bench-big").exists():
        if Site.objects.exists():
            print("The database holds other sites: give an empty database (or no DATABASE_URL).")
            return 2
        t0 = time.perf_counter()
        phases: dict[str, float] = defaultdict(float)
        seed(clients_count, args.sites_per_client, phases)
        vacuumed = time.perf_counter()
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load: without statistics the planner guesses
            # (and without the visibility map no scan is index-only).
            connection.cursor().execute("VACUUM ANALYZE")
        else:
            connection.cursor().execute("ANALYZE")
        phases["VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"] = (
            time.perf_counter() - vacuumed
        )
        print(
            f"seeded {clients_count * args.sites_per_client:,} sites (and the small reseller's "
            f"100) in {time.perf_counter() - t0:.1f} s ("
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
            + ")"
        )
    from django.contrib.auth import get_user_model

    User = get_user_model()
    people = {
        label: (
            User.objects.get(username=f"{slug}-admin"),
            slug,
            Organisation.objects.filter(parent__slug=slug)
            .order_by("slug")
            .values_list("slug", flat=True)[0],
        )
        for label, slug in (("big", "bench-big"), ("small", "bench-small"))
    }
    sizes = {}
    for label, (_, slug, _) in people.items():
        sizes[label] = Site.objects.filter(organisation__parent__slug=slug).count()
        clients_there = Organisation.objects.filter(parent__slug=slug).count()
        print(f"  {label}: {sizes[label]:,} sites in {clients_there:,} client organisations")
    print(
        f"  probe runs {ProbeRun.objects.count():,}, rollout steps {RolloutStep.objects.count():,}"
    )
    wanted = clients_count * args.sites_per_client
    if sizes["big"] != wanted:
        print(
            f"This database was seeded with {sizes['big']:,} sites, not {wanted:,}: give an "
            "empty database for another size (the figures below are for the size above)."
        )
    big, small = f"{sizes['big']:,} sites", f"{sizes['small']:,} sites"

    # The process as the WSGI server's (portal.wsgi): everything loaded, then out of the garbage
    # collector's reach (gc.freeze), as a served request finds it.
    import portal.wsgi  # noqa: F401

    # The headline counts are a worker's job (sites.services.dashboard_counts): made here as the
    # worker makes them, timed on their own, and kept fresh for the whole run (no worker runs).
    with client_settings(), override_settings(DASHBOARD_COUNTS_SECONDS=24 * 3600):
        clients = {}
        for label, (user, _slug, _) in people.items():
            client = Client()
            client.force_login(user)
            clients[label] = client
        count_times = {
            label: headline_count_times(person[0], person[1]) for label, person in people.items()
        }

        def get(label, query, htmx):
            slug = people[label][1]
            headers = {"HX-Request": "true"} if htmx else {}
            path = f"/o/{slug}/sites/"
            if query.startswith(API):  # the sites API's list (sites.api.pagination)
                path, query = f"/api/o/{slug}/sites/", query.removeprefix(API)
            elif query == HOME:  # the organisation's home page: its figures and clients
                path, query = f"/o/{slug}/", ""
            response = clients[label].get(path + (f"?{query}" if query else ""), headers=headers)
            # 286: a headline poll told to stop (nothing more to follow), answered whole.
            assert response.status_code in (200, 286), (query, response.status_code)
            return response

        mixes = {
            label: request_mix(
                person[2],
                {
                    sort: middle_of(person[0], person[1], sort)
                    for sort in ("", "probe", "-rollout", "-updated")
                },
            )
            for label, person in people.items()
        }
        # Query counts: each kind of request, at both sizes.
        print(f"\nqueries per request ({big} / {small}):")
        counts_equal = True
        for (name, query, htmx), (_, small_query, _) in zip(
            mixes["big"], mixes["small"], strict=True
        ):
            counts, empty = [], []
            for label, q in (("big", query), ("small", small_query)):
                get(label, q, htmx)  # warm: session and caches as in steady use
                with CaptureQueriesContext(connection) as captured:
                    response = get(label, q, htmx)
                counts.append(len(captured))
                empty.append(  # no row to tick, or no result
                    False
                    if q == HOME
                    else b'"results":[]' in response.content
                    if q.startswith(API)
                    else b'name="site"' not in response.content
                )
            # An empty page skips the query of its rows' columns: compare pages with rows.
            equal = counts[0] == counts[1] or any(empty)
            counts_equal &= equal
            note = "" if counts[0] == counts[1] else "(an empty page)" if equal else "DIFFERENT"
            print(
                f"  {name:<30} {'htmx' if htmx else 'page':<4} {counts[0]:>3} / {counts[1]:<3} {note}"
            )

        # Timing: the mix, over and over, at both sizes.
        timings = {}
        small_times = []
        for i in range(args.requests):
            name, query, htmx = mixes["big"][i % len(mixes["big"])]
            t0 = time.perf_counter_ns()
            get("big", query, htmx)
            timings.setdefault(name, []).append((time.perf_counter_ns() - t0) / 1e6)
        for i in range(min(args.requests, 96)):
            name, query, htmx = mixes["small"][i % len(mixes["small"])]
            t0 = time.perf_counter_ns()
            get("small", query, htmx)
            small_times.append((time.perf_counter_ns() - t0) / 1e6)

    print("\nthe headline counts, as a worker makes them (ms; not part of any request):")
    for label, size in (("big", big), ("small", small)):
        times = count_times[label]
        print(f"  {size:<14} p50 {percentile(times, 0.5):6.1f}   max {max(times):6.1f}")
    print(f"\nlatency per kind of request, {big} (ms; {args.requests} requests in all):")
    for name, values in timings.items():
        print(
            f"  {name:<30} p50 {percentile(values, 0.5):6.1f}   p95 {percentile(values, 0.95):6.1f}"
            f"   max {max(values):6.1f}"
        )
    every = [t for values in timings.values() for t in values]
    p50, p95 = percentile(every, 0.50), percentile(every, 0.95)
    worst = max(timings, key=lambda name: percentile(timings[name], 0.95))
    print(
        f"\n{big}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(every):.1f} ms over {len(every)} requests;"
        f" slowest kind {worst!r} p95 {percentile(timings[worst], 0.95):.1f} ms"
    )
    print(
        f"{small}: p50 {percentile(small_times, 0.5):.1f} ms, p95 {percentile(small_times, 0.95):.1f} ms over {len(small_times)} requests"
    )
    print(
        f"target p95 <= {P95_TARGET_MS:.0f} ms at {big}: {'met' if p95 <= P95_TARGET_MS else 'MISSED'}; "
        f"query counts equal at both sizes: {'yes' if counts_equal else 'NO'}"
    )
    print(
        f"load average at end {os.getloadavg()[0]:.2f}; whole run {time.perf_counter() - started:.0f} s"
    )
    return 0 if p95 <= P95_TARGET_MS and counts_equal else 1


if __name__ == "__main__":
    sys.exit(main())
