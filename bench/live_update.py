"""Benchmark: how long a step change takes to reach an open rollout page.

Target (DESIGN.md, "Targets"): a step change reaches an open rollout page within 2 s.

The site of bench/progress.py is seeded (the same database rules: a fresh SQLite file, or a
throwaway PostgreSQL database named with "bench") and served by gunicorn with production
settings. Headless Chromium (Debian's, through Playwright) opens the site's page as its customer
admin and leaves it open. This process then changes steps through the service
(``mark_step``, as a colleague's click or a probe would), at a random moment relative to
the page's poll, and measures from the commit to the moment the step's badge on the open page
shows the new state (Playwright watching the DOM). The page is never reloaded.

Peer, in the same run: the same change seen by reloading the page (what a page without live
updates costs the customer each time they look).

Prints p50, p95 and the slowest of the samples, and exits 1 when the slowest exceeds the target.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
# synchronous ones between its calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
import progress

from bench._common import prepare_database

TARGET_SECONDS = 2.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="step changes to time")
    parser.add_argument(
        "--database-url", help="a throwaway PostgreSQL database (name with 'bench')"
    )
    args = parser.parse_args()
    if not 5 <= args.changes <= 200:
        parser.error("--changes must be 5-200")
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
        return 2

    database_url = prepare_database(
        args.database_url, progress.REPO_ROOT / "var" / "bench-live-update.sqlite3"
    )
    progress.setup_django(database_url)
    user, org_slug, site_pk = progress.seed()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # production serves the manifest
    from playwright.sync_api import sync_playwright

    from sites.models import RolloutStep, Site, StepState
    from sites.services.rollouts import mark_step

    site = Site.objects.select_related("current_instruction_set__rollout").get(pk=site_pk)
    steps = list(
        RolloutStep.objects.filter(
            rollout=site.current_instruction_set.rollout, state=StepState.PENDING
        ).order_by("position")
    )
    cookie_name, _, cookie_value = progress.session_cookie(user).partition("=")
    live, reloaded = [], []
    with (
        tempfile.TemporaryDirectory(prefix="bench-live-") as tmp,
        progress.Server(2 * (os.cpu_count() or 1), Path(tmp) / "gunicorn.log") as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies(
            [{"name": cookie_name, "value": cookie_value, "domain": progress.HOST, "path": "/"}]
        )
        page = context.new_page()
        url = f"http://{progress.HOST}:{server.port}/o/{org_slug}/sites/{site_pk}/"
        response = page.goto(url)
        if page.locator("#rollout-summary").count() == 0:
            print(f"FAILED: {url} answered {response.status} at {page.url}: {page.content()[:500]}")
            return 1
        page.evaluate("window.__sameDocument = true")
        rng = random.Random(7)
        # One pending step is never touched: a finished rollout stops the page's polling (286).
        movable = steps[:-1]
        for number in range(args.changes):
            step = movable[number % len(movable)]
            step.state = StepState.DONE if step.state == StepState.PENDING else StepState.PENDING
            time.sleep(rng.uniform(0, 1.5))  # any moment of the poll's cycle
            mark_step(step=step, state=step.state)
            changed = time.perf_counter()
            page.wait_for_selector(
                f"#step-badge-{step.pk} [data-state='{step.state}']", timeout=15_000
            )
            live.append(time.perf_counter() - changed)
        if not page.evaluate("window.__sameDocument === true"):
            print("FAILED: the page was reloaded")
            return 1
        # The peer: a reload shows the change as soon as the page is loaded again.
        other = browser.new_context()
        other.add_cookies(context.cookies())
        second = other.new_page()
        second.goto(url)
        for number in range(min(args.changes, 10)):
            step = movable[number % len(movable)]
            flipped = StepState.SKIPPED if step.state != StepState.SKIPPED else StepState.PENDING
            mark_step(step=step, state=flipped)
            step.state = flipped
            changed = time.perf_counter()
            second.reload()
            second.wait_for_selector(f"#step-badge-{step.pk} [data-state='{flipped}']")
            reloaded.append(time.perf_counter() - changed)
        browser.close()

    print(
        f"a step change reaching an open rollout page: {len(live)} changes, polled every 1.5 s, "
        f"database {database_url.split('://')[0]}"
    )
    print(
        f"  live (no reload): p50 {statistics.median(live):.2f} s, p95 {percentile(live, 0.95):.2f} s, "
        f"slowest {max(live):.2f} s"
    )
    print(
        f"  peer, a full reload: p50 {statistics.median(reloaded):.2f} s, slowest {max(reloaded):.2f} s"
    )
    verdict = "met" if max(live) <= TARGET_SECONDS else "MISSED"
    print(f"  target: every change within {TARGET_SECONDS:g} s: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
