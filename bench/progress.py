"""Benchmark: the rollout progress partial under load, against a bare Django view.

Target (DESIGN.md, "Targets"): the progress partial serves >= 50 % of the requests/s of a bare
Django view on the same server settings.

The progress partial is what an open site page polls every 2 s: ``SiteDetailView`` answering an
htmx request (``HX-Request: true``) with the ``live`` partial of ``sites/site_detail.html`` (the
rollout summary and, out of band, every step's badge).

What is seeded (in a fresh SQLite file ``var/bench-progress.sqlite3``, or in the PostgreSQL
database ``--database-url`` names, dropped and created again, so its name must contain "bench"):

- a provider, a reseller and a customer organisation with a customer admin, who is logged in;
- 20 sites of that customer with real instructions (``regenerate_site``), and the measured one:
  a FortiGate with remote monitoring and a Windows backup host (firewall and host documents),
  edited once, so its current instructions are version 2 with a diff against version 1; steps
  done (some carried over from version 1, with who and when), one skipped, one with a note, the
  rest pending: the rollout is in progress;
- probe runs of that site: proven, failed, expired and one waiting for the customer.

What runs:

- the server: gunicorn (sync workers, ``--workers``, default 2 per CPU) serving the portal's WSGI
  application with the production settings (DEBUG off, the cached template loader, the whole
  middleware stack), in its own process group; the only change is the URLconf
  ``bench/_server_urls.py``, which adds the peer:
- the peer: ``/bench/bare/``, a view returning ``HttpResponse(b"ok")`` through the same
  middleware, with the same session cookie and headers as the partial;
- the poll as a browser sends it once it holds the partial: the same request with
  ``If-None-Match`` (the partial's ETag), answered 304 without a body while nothing changes
  (``304`` below; printed beside, the target is judged on the plain partial);
- the load: ``wrk`` (Debian's package; installed with apt-get when missing and this runs as root)
  in its own process, ``--connections`` open connections on one thread, for ``--seconds`` per
  round. After a warm-up of each, ``--rounds`` rounds alternate partial / bare / 304 (the order
  reverses every other round); the median round of each is compared. p50 and p95 latency come from wrk's
  histogram. Server CPU (gunicorn's master and workers, from /proc) is shown per request too: it
  moves less than requests/s when other work shares the machine.

The partial is answered from a render cache while what it shows does not change (see
``SiteDetailView.live``); nothing changes during the run, so after its first request each worker
serves polls as it does between two changes. In process (Django's test client, no server), the
script also prints queries and CPU per request of the bare view, the partial as served, and the
partial rendered (its cache emptied before each request: a poll right after a change). Before
the load, one request of each is checked (status 200, the partial's summary and one out-of-band
badge per step).

Run from the repository root::

    .venv/bin/python bench/progress.py [--seconds 10] [--rounds 5] [--connections 8]
        [--workers N] [--database-url postgres://postgres@127.0.0.1:5432/bench_progress]
        [--profile]

``--profile`` also profiles 300 partial requests in process, rendered each time (cache emptied),
with pyinstrument (``pip install pyinstrument``) and prints where the time goes. Exit status: 0
target met, 1 missed or a check failed, 2 no wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
DEFAULT_DB = REPO_ROOT / "var" / "bench-progress.sqlite3"

from bench._common import prepare_database, process_tree_cpu  # noqa: E402  (needs REPO_ROOT on the path)

SETTINGS = "bench._server_settings"
TARGET_RATIO = 0.5
HOST = "127.0.0.1"
BARE_PATH = "/bench/bare/"

# wrk prints this line at the end of a run (latencies in microseconds).
WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "socket_errors": %d, "bad_status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


# --- database and seed ---------------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["HTTPS"] = "false"  # plain HTTP on loopback: no redirect to https
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def site_data(name: str, n: int, **changes) -> dict:
    lan = f"10.20.{n}"
    return {
        "name": name,
        "vendor": "fortigate",
        "public_address": f"192.0.2.{n + 1}",
        "lan_network": f"{lan}.0/24",
        "lan_gateway": f"{lan}.1",
        "host_addressing": "static",
        "host_address": f"{lan}.10",
        "monitoring_enabled": True,
        "monitoring_sources": ["198.51.100.7/32"],
        "host_os": "windows",
        **changes,
    }


def seed() -> tuple[object, str, int]:
    """Seed the world above; return (the customer admin, the customer's slug, the site's pk)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portal.accounts.models import Membership, Organisation, OrganisationKind, Role
    from sites.models import ProbeRun, ServiceProfile, Site, StepState
    from sites.services.instructions import regenerate_site
    from sites.services.probes import start_probe_run
    from sites.services.rollouts import mark_step

    provider = Organisation.objects.create(
        name="Bench provider", slug="bench-provider", kind=OrganisationKind.PROVIDER
    )
    reseller = Organisation.objects.create(
        name="Bench reseller",
        slug="bench-reseller",
        kind=OrganisationKind.RESELLER,
        parent=provider,
    )
    customer = Organisation.objects.create(
        name="Bench customer",
        slug="bench-customer",
        kind=OrganisationKind.CUSTOMER,
        parent=reseller,
    )
    user = get_user_model().objects.create_user(username="bench-admin", password="bench-pass-1")
    Membership.objects.create(user=user, organisation=customer, role=Role.CUSTOMER_ADMIN)
    profile = ServiceProfile.objects.default()

    def described_site(name: str, n: int) -> Site:
        data = site_data(name, n)
        site = Site.objects.create(
            organisation=customer,
            name=name,
            vendor=data["vendor"],
            profile=profile,
            description=data,
            public_address=data["public_address"],
        )
        regenerate_site(site_id=site.pk)
        return site

    for n in range(20):
        described_site(f"Branch {n:02d}", n + 1)
    site = described_site("Head office", 0)

    first = Site.objects.get(pk=site.pk).current_instruction_set
    steps = list(first.rollout.steps.order_by("position"))
    for step in steps[:4]:
        mark_step(step=step, state=StepState.DONE, by=user)
    # An edit: a second monitoring source. Version 2 carries the unchanged done steps over.
    changed = site_data("Head office", 0, monitoring_sources=["198.51.100.7/32", "203.0.113.64/28"])
    Site.objects.filter(pk=site.pk).update(description=changed)
    regenerate_site(site_id=site.pk)
    current = Site.objects.get(pk=site.pk).current_instruction_set
    steps = list(current.rollout.steps.order_by("position"))
    pending = [s for s in steps if s.state == StepState.PENDING]
    mark_step(step=pending[0], state=StepState.DONE, by=user, note="Policy added, ID 12")
    mark_step(
        step=pending[1],
        state=StepState.SKIPPED,
        by=user,
        note="NAT is already on for the whole LAN",
    )
    mark_step(step=pending[2], state=StepState.DONE, by=user)

    now = timezone.now()
    for state, days_ago in (("proven", 9), ("failed", 6), ("expired", 3), ("proven", 1)):
        finished = now - timedelta(days=days_ago)
        run = ProbeRun.objects.create(
            site=site,
            instruction_set=current,
            direction="outbound",
            purpose="verify",
            state=state,
            expected=[{"protocol": "tcp", "port": 4401}],
            token=f"bench.{state}.{days_ago}",
            expires_at=finished,
            finished_at=finished,
        )
        ProbeRun.objects.filter(pk=run.pk).update(created_at=finished - timedelta(minutes=5))
    start_probe_run(site=Site.objects.get(pk=site.pk), direction="outbound", by=user)
    return user, customer.slug, site.pk


# --- in-process checks ---------------------------------------------------------------------------


def in_process(user, paths: dict[str, str], requests: int = 200) -> dict[str, tuple[int, float]]:
    """(SQL queries, CPU ms) per request of each path through Django's test client, after a
    warm-up (session settled); for the partial also with its render cache emptied before each
    request ("partial, rendered"), which is what a poll costs right after a change."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    cases = [(name, path, False) for name, path in paths.items()]
    cases.insert(1, ("partial, rendered", paths["partial"], True))
    results = {}
    for name, path, empty_cache in cases:
        for _ in range(10):
            client.get(path, headers={"HX-Request": "true"})
        if empty_cache:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200, (path, response.status_code)
        queries = len(captured)  # now: the next request empties Django's query log
        cpu = 0.0
        for _ in range(requests):
            if empty_cache:
                cache.clear()
            started = time.process_time()
            client.get(path, headers={"HX-Request": "true"})
            cpu += time.process_time() - started
        results[name] = (queries, cpu * 1000 / requests)
    return results


def profile_partial(user, path: str, requests: int = 300, *, rendered: bool = True) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print(
            "--profile: pyinstrument is not installed (.venv/bin/python -m pip install "
            "pyinstrument)"
        )
        return
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    for _ in range(20):
        client.get(path, headers={"HX-Request": "true"})
    profiler = Profiler(interval=0.0002)
    started = time.perf_counter()
    with profiler:
        for _ in range(requests):
            if rendered:
                cache.clear()
            client.get(path, headers={"HX-Request": "true"})
    elapsed = time.perf_counter() - started
    how = "rendered each time" if rendered else "as served (from the render cache)"
    print(
        f"\nprofile: {requests} partial requests in process, {how} (test client, "
        f"no server): {elapsed / requests * 1000:.2f} ms each"
    )
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the portal, for the length of a ``with``."""

    def __init__(self, workers: int, log: Path):
        self.workers, self.log = workers, log
        self.port = free_port()

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--chdir",
            str(REPO_ROOT),
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://{HOST}:{self.port}{BARE_PATH}", timeout=2).read()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 60 s: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def etag(self, path: str, headers: dict) -> str:
        request = urllib.request.Request(f"http://{HOST}:{self.port}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("ETag", "")

    def get(self, path: str, headers: dict) -> tuple[int, bytes]:
        request = urllib.request.Request(f"http://{HOST}:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


# --- the load ------------------------------------------------------------------------------------


def find_or_install_wrk() -> tuple[str | None, str]:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, (
            "wrk is not installed and this is not root with apt-get: run "
            "`sudo apt-get install -y wrk` and run this again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("wrk missing: apt-get install -y wrk ...", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return None, f"apt-get install wrk failed: {done.stderr.strip()[-500:]}"
    wrk = shutil.which("wrk")
    return wrk, "" if wrk else "apt-get reported success but wrk is not on PATH"


@dataclass
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu * 1000 / self.requests


def run_wrk(
    wrk: str, script: Path, server: Server, path: str, headers: dict, seconds: int, connections: int
) -> Round:
    command = [
        wrk,
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{HOST}:{server.port}{path}")
    cpu_before = process_tree_cpu(server.process.pid)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu_after = process_tree_cpu(server.process.pid)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr + done.stdout)[-500:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Round(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p95_ms=report["p95_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["socket_errors"] + report["bad_status"],
        server_cpu=server_cpu,
    )


def median_round(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def describe(name: str, rounds: list[Round]) -> str:
    median = median_round(rounds)
    rates = [r.rate for r in rounds]
    text = (
        f"{name:<8} {median.rate:7,.0f} req/s (rounds {min(rates):,.0f}..{max(rates):,.0f}); "
        f"p50 {median.p50_ms:6.2f} ms, p95 {median.p95_ms:6.2f} ms, "
        f"p99 {median.p99_ms:6.2f} ms"
    )
    if median.cpu_ms_per_request is not None:
        text += f"; server CPU {median.cpu_ms_per_request:.2f} ms/request"
    errors = sum(r.errors for r in rounds)
    return text + (f"; {errors} errors or bad statuses" if errors else "")


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of a timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per view")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn sync workers"
    )
    parser.add_argument(
        "--database-url", help="a throwaway PostgreSQL database (its name with 'bench')"
    )
    parser.add_argument("--profile", action="store_true", help="profile the partial in process")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 15:
        parser.error("--rounds must be 1-15")
    if args.seconds < 1 or args.warmup < 1:
        parser.error("--seconds and --warmup: whole seconds, at least 1 (wrk's unit)")

    started = time.perf_counter()
    wrk, why_no_wrk = find_or_install_wrk()
    database_url = prepare_database(args.database_url, DEFAULT_DB)
    setup_django(database_url)
    from django.db import connection

    t0 = time.perf_counter()
    user, org_slug, site_pk = seed()
    seeded = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from sites.models import Site

    site = Site.objects.select_related("current_instruction_set__rollout").get(pk=site_pk)
    current = site.current_instruction_set
    step_count = current.rollout.steps.count()
    partial_path = f"/o/{org_slug}/sites/{site_pk}/"
    paths = {"partial": partial_path, "bare": BARE_PATH}
    wrk_version = "no wrk"
    if wrk:
        wrk_version = subprocess.run(
            [wrk, "-v"], capture_output=True, text=True, check=False
        ).stdout.split("\n")[0]
    import django
    import gunicorn

    print(
        f"progress partial benchmark: Python {platform.python_version()}, Django "
        f"{django.get_version()}, gunicorn {gunicorn.__version__}, {wrk_version.strip()}"
    )
    print(
        f"machine: nproc {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} at start; "
        f"database {connection.vendor} ({database_url.split('@')[-1]})"
    )
    from django.conf import settings

    print(
        f"sessions: {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}; a person's grants: "
        f"{settings.CACHES['actors']['BACKEND'].rsplit('.', 1)[-1]}"
        + (" (REDIS_URL)" if settings.REDIS_URL else " (no REDIS_URL: kept nowhere)")
    )
    print(
        f"seeded in {seeded:.1f} s: site {site_pk} '{site.name}' ({site.vendor}), instructions "
        f"v{current.version}, {step_count} steps, rollout {current.rollout.state}"
    )
    print(
        "in process (test client, no server): "
        + "; ".join(
            f"{name} {queries} queries, {ms:.2f} ms CPU"
            for name, (queries, ms) in in_process(user, paths).items()
        )
    )
    if args.profile:
        profile_partial(user, partial_path, rendered=False)
        profile_partial(user, partial_path)
    if wrk is None:
        print(f"wrk: not run. {why_no_wrk}")
        return 2

    headers = {"Cookie": session_cookie(user), "HX-Request": "true"}
    failures = []
    results: dict[str, list[Round]] = {"partial": [], "bare": [], "304": []}
    request_headers = {"partial": headers, "bare": headers}
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_REPORT)
        with Server(args.workers, Path(tmp) / "gunicorn.log") as server:
            status, body = server.get(partial_path, headers)
            text = body.decode()
            if status != 200 or 'id="rollout-summary"' not in text or "<html" in text:
                failures.append(f"the partial answered {status}: {text[:300]!r}")
            elif text.count('class="step-badge"') != step_count:
                failures.append(
                    f"the partial has {text.count('class="step-badge"')} badges, {step_count} steps"
                )
            status, body = server.get(BARE_PATH, headers)
            if (status, body) != (200, b"ok"):
                failures.append(f"the bare view answered {status}: {body[:200]!r}")
            # As a browser polls: with the ETag of the partial it holds, answered 304.
            etag = server.etag(partial_path, headers)
            request_headers["304"] = {**headers, "If-None-Match": etag}
            status, body = server.get(partial_path, request_headers["304"])
            if (status, body) != (304, b""):
                failures.append(f"the partial asked with its ETag answered {status}")
            if failures:
                for failure in failures:
                    print(f"FAILED: {failure}")
                return 1
            print(
                f"server: gunicorn, {args.workers} sync workers; load: wrk, 1 thread, "
                f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s "
                f"per view after {args.warmup:g} s warm-up, alternating"
            )
            print(
                "  (nothing changes during the run: each worker renders the partial once and "
                "answers the next polls from its render cache, as between two changes)\n"
            )
            order = ["partial", "bare", "304"]
            paths["304"] = partial_path
            for name in order:
                run_wrk(
                    wrk,
                    script,
                    server,
                    paths[name],
                    request_headers[name],
                    args.warmup,
                    args.connections,
                )
            for number in range(1, args.rounds + 1):
                line = f"round {number}:"
                for name in order if number % 2 else order[::-1]:
                    result = run_wrk(
                        wrk,
                        script,
                        server,
                        paths[name],
                        request_headers[name],
                        args.seconds,
                        args.connections,
                    )
                    results[name].append(result)
                    line += f"  {name} {result.rate:7,.0f} req/s (p95 {result.p95_ms:.1f} ms)"
                print(line, flush=True)
            log = (Path(tmp) / "gunicorn.log").read_text().strip()
            if log:
                print(f"gunicorn log (last lines):\n{log[-1500:]}")

    print()
    for name in ("partial", "bare", "304"):
        print(describe(name, results[name]))
        if any(r.errors for r in results[name]):
            failures.append(f"{name}: errors or non-2xx/3xx answers under load")
    partial, bare = median_round(results["partial"]), median_round(results["bare"])
    ratio = partial.rate / bare.rate
    verdict = "PASS" if ratio >= TARGET_RATIO and not failures else "FAIL"
    if partial.cpu_ms_per_request and bare.cpu_ms_per_request:
        print(
            f"server CPU per request, bare/partial: "
            f"{bare.cpu_ms_per_request / partial.cpu_ms_per_request:.0%}"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    revalidated = median_round(results["304"])
    if revalidated.cpu_ms_per_request and bare.cpu_ms_per_request:
        print(
            f"server CPU per request, bare/304: "
            f"{bare.cpu_ms_per_request / revalidated.cpu_ms_per_request:.0%}"
        )
    print(
        f"ratio 304/bare (the poll as a browser sends it, with the ETag it holds): "
        f"{revalidated.rate / bare.rate:.0%}"
    )
    print(
        f"ratio partial/bare (median rounds): {ratio:.0%} (target >= {TARGET_RATIO:.0%}): {verdict}"
    )
    print(
        f"load average {os.getloadavg()[0]:.2f} at end; whole run "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
