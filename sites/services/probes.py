"""Probe runs: issuing them, recording what the responder and the inbound checker saw, and
completing the rollout's verification steps from the proof.

Tokens are signed and self-contained (``sites.probes.tokens``), so the responder checks them
without the database; it hands its observations to ``record_observations`` in batches.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.instructions import step_contents
from sites.models import (
    AttemptOutcome,
    ProbeAttempt,
    ProbeDirection,
    ProbeObservation,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    ProbeSource,
    RolloutStep,
    Site,
    StepState,
)
from sites.policy import inbound_ports
from sites.probes.tokens import issue_token
from sites.services import queue
from sites.services.proof import record_probe_opened, record_probe_outcome
from sites.services.rollouts import StepReplaced, mark_step
from sites.vendors.base import StepKind


def probe_key() -> bytes:
    """The key that signs probe tokens: ``PROBE_TOKEN_KEY``, else derived from SECRET_KEY."""
    configured = settings.PROBE_TOKEN_KEY
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"probe-token-key", hashlib.sha256).digest()


def expected_ports(site: Site, direction: str) -> list[dict]:
    profile = site.profile.as_spec()
    ports = (
        profile.outbound_ports if direction == ProbeDirection.OUTBOUND else inbound_ports(profile)
    )
    return [{"protocol": p.protocol, "port": p.port} for p in ports]


class ProbeRateLimited(ServiceError):
    """Too many probe runs just now (an API or agent answers 429)."""


def _check_rate_limits(site: Site) -> None:
    """At most PROBE_RUNS_PER_SITE runs per site and PROBE_RUNS_PER_ORGANISATION per organisation
    in the last PROBE_RATE_WINDOW seconds: probes are not a scanner, whoever asks."""
    since = timezone.now() - timedelta(seconds=settings.PROBE_RATE_WINDOW)
    recent = ProbeRun.objects.filter(created_at__gte=since)
    if recent.filter(site=site).count() >= settings.PROBE_RUNS_PER_SITE:
        raise ProbeRateLimited("", "This site was probed many times just now; wait a few minutes.")
    if (
        recent.filter(site__organisation_id=site.organisation_id).count()
        >= settings.PROBE_RUNS_PER_ORGANISATION
    ):
        raise ProbeRateLimited(
            "", "Your organisation started many probes just now; wait a few minutes."
        )


def start_probe_run(
    *,
    site: Site,
    direction: str,
    purpose: str = ProbePurpose.VERIFY,
    by=None,
    source: str = ProbeSource.PERSON,
    lifetime: timedelta | None = None,
) -> ProbeRun:
    """Open a probe run with its token. An outbound run waits for the client on the backup host;
    an inbound run waits until the customer's listener runs (``launch_inbound_check``).
    ``lifetime``: how long the run and its token stay open (``PROBE_TOKEN_TTL`` by default; a
    proof request mailed to the customer gets days)."""
    if direction not in ProbeDirection.values:
        raise ServiceError("direction", f"Choose one of: {', '.join(ProbeDirection.values)}.")
    if purpose not in ProbePurpose.values:
        raise ServiceError("purpose", f"Choose one of: {', '.join(ProbePurpose.values)}.")
    if purpose == ProbePurpose.RESTRICTION and direction != ProbeDirection.OUTBOUND:
        raise ServiceError(
            "purpose", "A restriction check is an outbound probe from another machine."
        )
    if purpose == ProbePurpose.CLOSURE and direction != ProbeDirection.INBOUND:
        raise ServiceError(
            "purpose", "A closure check connects from outside: it is an inbound probe."
        )
    if site.profile is None or site.current_instruction_set_id is None:
        raise ServiceError("", "This site has no instructions yet.")
    if direction == ProbeDirection.INBOUND:
        description = site.as_description()
        # A closure check runs after the monitoring access was removed (so monitoring is off).
        if not description.monitoring_enabled and purpose != ProbePurpose.CLOSURE:
            raise ServiceError(
                "direction", "Remote monitoring is off for this site: nothing to check inbound."
            )
        if site.public_address is None:
            raise ServiceError(
                "direction", "The site's public address is dynamic: enter it to check from outside."
            )
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)  # one rate-limit check at a time per site
        _check_rate_limits(site)
        expires_at = timezone.now() + (lifetime or timedelta(seconds=settings.PROBE_TOKEN_TTL))
        run = ProbeRun.objects.create(
            site=site,
            instruction_set_id=site.current_instruction_set_id,
            direction=direction,
            purpose=purpose,
            expected=expected_ports(site, direction),
            expires_at=expires_at,
            created_by=by,
            source=source,
        )
        run.token = issue_token(probe_key(), run.pk, int(expires_at.timestamp()))
        run.save(update_fields=["token"])
        record_probe_opened(run)  # "waiting on customer" follows
        record_event(
            action="probe.started",
            organisation=site.organisation,
            target=run,
            after={
                "direction": direction,
                "purpose": purpose,
                "expected": run.expected,
                "source": source,
            },
        )
    return run


def launch_inbound_check(*, run: ProbeRun, by=None) -> None:
    """Queue the worker's connection to the site's public address (the listener now runs).

    ``check_requested_at`` is set with a conditional update, so a double click queues one check,
    and a message lost on the way can be told from "not asked yet" (``requeue_stuck_inbound_runs``).
    """
    if run.direction != ProbeDirection.INBOUND:
        raise ServiceError("direction", "Only an inbound probe is checked from the portal's side.")
    with transaction.atomic():
        asked = ProbeRun.objects.filter(
            pk=run.pk, state=ProbeRunState.WAITING, check_requested_at__isnull=True
        ).update(check_requested_at=timezone.now())
        if not asked:
            raise ServiceError(
                "", "This probe was checked already; start a new one to check again."
            )
        record_event(
            action="probe.check_requested",
            organisation=run.site.organisation,
            target=run,
            after={"public_address": run.site.public_address},
        )
        queue.enqueue_after_commit(queue.RUN_INBOUND_CHECK, run.pk)


@dataclass(frozen=True)
class Seen:
    """One observation, as the responder or the inbound checker reports it."""

    run_id: int | None
    direction: str
    port: int
    protocol: str
    observed_ip: str | None
    observed_port: int | None
    outcome: str  # "ok" or an error code
    received_at: float  # Unix time
    receipt: str = ""
    detail: str = ""


def record_observations(batch: list[Seen]) -> int:
    """Store a batch; settle the runs it proves. Safe to call twice with the same batch.

    Returns how many new accepted observations were stored.
    """
    known_runs = set(
        ProbeRun.objects.filter(pk__in={s.run_id for s in batch if s.run_id}).values_list(
            "pk", flat=True
        )
    )
    rows = [
        ProbeObservation(
            run_id=s.run_id if s.run_id in known_runs else None,
            direction=s.direction,
            port=s.port,
            protocol=s.protocol,
            observed_ip=s.observed_ip,
            observed_port=s.observed_port,
            outcome=s.outcome,
            detail=s.detail[:300],
            receipt=s.receipt[:64],
            received_at=datetime.fromtimestamp(s.received_at, tz=UTC),
        )
        for s in batch
    ]
    accepted = [r for r in rows if r.outcome == "ok" and r.run_id]
    others = [r for r in rows if r not in accepted]
    ProbeObservation.objects.bulk_create(others)
    new = 0
    for row in accepted:
        # One by one: the unique constraint turns a duplicate into a no-op without failing the rest.
        try:
            with transaction.atomic():
                row.save()
            new += 1
        except IntegrityError:
            continue
    for run_id in {r.run_id for r in accepted}:
        settle_run(run_id=run_id)
    return new


def settle_run(*, run_id: int) -> ProbeRun:
    """Decide an open run from its observations; complete the verification steps it proves."""
    with transaction.atomic():
        run = (
            ProbeRun.objects.select_for_update().select_related("site__organisation").get(pk=run_id)
        )
        if not run.is_open:
            return run
        accepted = list(run.observations.filter(outcome="ok"))
        seen = {(o.protocol, o.port) for o in accepted}
        if run.purpose == ProbePurpose.CLOSURE:
            if seen:  # the listener answered through the firewall: the forward is still open
                _close(
                    run,
                    ProbeRunState.FAILED,
                    {
                        "message": "Still open: the backup host answered from outside on "
                        + ", ".join(sorted(f"{p.upper()} {n}" for p, n in seen))
                        + ". Check the removal steps again.",
                    },
                )
            return run
        if run.purpose == ProbePurpose.RESTRICTION:
            if seen:
                _close(
                    run,
                    ProbeRunState.FAILED,
                    {
                        "message": "Another machine got through: the rule is not restricted to the backup host.",
                        "sources": sorted({o.observed_ip for o in accepted}),
                    },
                )
            return run
        wanted = {(e["protocol"], e["port"]) for e in run.expected}
        if not wanted <= seen:
            return run
        outcome = {"proven": sorted(f"{p.upper()} {n}" for p, n in wanted)}
        public = run.site.public_address
        if run.direction == ProbeDirection.OUTBOUND and public:
            sources = sorted({o.observed_ip for o in accepted})
            outcome["sources"] = sources
            if sources != [public]:
                outcome["nat_warning"] = (
                    f"The probe arrived from {', '.join(sources)}, not from the site's public address "
                    f"{public}: the address translation differs from the description."
                )
        _close(run, ProbeRunState.PROVEN, outcome)
        _complete_verify_steps(run, wanted)
    return run


def _close(run: ProbeRun, state: str, outcome: dict) -> None:
    before = {"state": run.state}
    run.state, run.outcome, run.finished_at = state, outcome, timezone.now()
    run.save(update_fields=["state", "outcome", "finished_at"])
    record_probe_outcome(run)  # the site's proof summary follows
    record_event(
        action=f"probe.{state}",
        organisation=run.site.organisation,
        target=run,
        before=before,
        after={"state": state, **outcome},
    )
    if state in (ProbeRunState.PROVEN, ProbeRunState.FAILED):
        _supersede_older_runs(run)


def _supersede_older_runs(run: ProbeRun) -> None:
    """Close the open runs of the same check (site, direction, purpose) opened before ``run``,
    which just settled: a second click on a probe button must not leave a run open that keeps
    the site "waiting on customer" after the proof came. Expired, with the reason, audited; the
    proof summary does not change (they are older than ``run``)."""
    older = (
        ProbeRun.objects.select_for_update()
        .filter(
            site_id=run.site_id,
            direction=run.direction,
            purpose=run.purpose,
            state=ProbeRunState.WAITING,  # a running inbound check finishes on its own
            created_at__lte=run.created_at,
        )
        .exclude(pk=run.pk)
    )
    for other in older:
        before = {"state": other.state}
        other.state, other.finished_at = ProbeRunState.EXPIRED, timezone.now()
        other.outcome = {
            "superseded_by": run.pk,
            "message": f"Superseded: probe run #{run.pk} of the same check settled first.",
        }
        other.save(update_fields=["state", "outcome", "finished_at"])
        record_event(
            action="probe.superseded",
            organisation=run.site.organisation,
            target=other,
            before=before,
            after={"state": other.state, **other.outcome},
        )


def _complete_verify_steps(run: ProbeRun, proven: set[tuple[str, int]]) -> None:
    """Mark done the verification steps whose probes this run proved (of its instruction set),
    through ``mark_step`` as a person would; nothing when newer instructions replaced them."""
    if run.instruction_set_id is None:
        return
    steps = RolloutStep.objects.filter(
        rollout__instruction_set_id=run.instruction_set_id, kind=StepKind.VERIFY
    ).exclude(state=StepState.DONE)
    contents = step_contents(run.instruction_set.documents)
    # A closure run completes the steps that expect the ports closed, any other those that
    # expect them open.
    expect = "closed" if run.purpose == ProbePurpose.CLOSURE else "open"
    for step in steps:
        content = contents[step.vendor, step.number]
        probes = {
            (p.protocol, p.port)
            for p in content.probes
            if p.direction == run.direction and p.expect == expect
        }
        if probes and probes <= proven:
            try:
                mark_step(step=step, state=StepState.DONE, note=f"Proven by probe run #{run.pk}.")
            except StepReplaced:
                return


def expire_probe_runs() -> int:
    """Close runs past their expiry: a silent restriction run is proof; a silent verify run is not."""
    now = timezone.now()
    count = 0
    for run_id in ProbeRun.objects.filter(
        state=ProbeRunState.WAITING, expires_at__lt=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            run = (
                ProbeRun.objects.select_for_update()
                .select_related("site__organisation")
                .get(pk=run_id)
            )
            if run.state != ProbeRunState.WAITING:
                continue
            if run.purpose == ProbePurpose.RESTRICTION:
                _close(
                    run,
                    ProbeRunState.PROVEN,
                    {"message": "Nothing arrived from the other machine: the rule is restricted."},
                )
            else:
                seen = sorted(
                    {
                        f"{o.protocol.upper()} {o.port}"
                        for o in run.observations.filter(outcome="ok")
                    }
                )
                _close(
                    run,
                    ProbeRunState.EXPIRED,
                    {"seen": seen, "message": "The token expired before every port was proven."},
                )
            count += 1
    return count


def claim_inbound_run(*, run_id: int) -> ProbeRun | None:
    """Move a waiting inbound run to checking and open its next attempt; None when another
    delivery already has it."""
    now = timezone.now()
    with transaction.atomic():
        claimed = ProbeRun.objects.filter(
            pk=run_id, state=ProbeRunState.WAITING, direction=ProbeDirection.INBOUND
        ).update(state=ProbeRunState.RUNNING, started_at=now, attempts=models.F("attempts") + 1)
        if not claimed:
            return None
        run = ProbeRun.objects.select_related("site__organisation", "site__profile").get(pk=run_id)
        ProbeAttempt.objects.create(run=run, number=run.attempts, started_at=now)
    return run


def _end_attempt(run: ProbeRun, outcome: str, detail: str = "") -> None:
    """Close the run's running attempt (the latest claim's), if any."""
    ProbeAttempt.objects.filter(
        run=run, number=run.attempts, outcome=AttemptOutcome.RUNNING
    ).update(outcome=outcome, detail=detail[:300], finished_at=timezone.now())


def finish_inbound_run(*, run_id: int, results: list[Seen], refusal: str = "") -> ProbeRun:
    """Record the inbound check's results; a run not proven by them fails (UDP silence: not proven)."""
    record_observations(results)
    run = settle_run(run_id=run_id)
    with transaction.atomic():
        run = (
            ProbeRun.objects.select_for_update().select_related("site__organisation").get(pk=run_id)
        )
        _end_attempt(run, AttemptOutcome.FINISHED, refusal or run.outcome.get("message", ""))
        if not run.is_open:
            return run
        if run.purpose == ProbePurpose.CLOSURE:
            _settle_closure(run, results, refusal)
            return run
        failures = [s for s in results if s.outcome != "ok"]
        only_udp_silence = failures and all(
            s.protocol == "udp" and s.outcome == "timeout" for s in failures
        )
        state = ProbeRunState.NOT_PROVEN if only_udp_silence else ProbeRunState.FAILED
        _close(
            run,
            state,
            {
                "message": refusal
                or "; ".join(
                    f"{s.protocol.upper()} {s.port}: {s.outcome} {s.detail}".strip()
                    for s in failures
                ),
            },
        )
    return run


# What a closed port answers from outside: nothing (dropped) or a refused connection. Anything
# else (a connection that opened, an error of ours) proves nothing about closure.
CLOSED_OUTCOMES = ("refused", "timeout")


def _settle_closure(run: ProbeRun, results: list[Seen], refusal: str) -> None:
    """A closure check that got no answer through the firewall: proven closed when every port was
    refused or silent; the site records when (``monitoring_closed_at``) and the removal plan's
    closure verification completes. Otherwise failed, saying what answered."""
    if refusal or not results:
        _close(run, ProbeRunState.FAILED, {"message": refusal or "Nothing was checked."})
        return
    unclear = [s for s in results if s.outcome not in CLOSED_OUTCOMES]
    if unclear:
        _close(
            run,
            ProbeRunState.FAILED,
            {
                "message": "Not proven closed: "
                + "; ".join(
                    f"{s.protocol.upper()} {s.port}: {s.outcome} {s.detail}".strip()
                    for s in unclear
                ),
            },
        )
        return
    closed = sorted({(s.protocol, s.port) for s in results})
    _close(
        run,
        ProbeRunState.PROVEN,
        {
            "closed": [f"{p.upper()} {n}" for p, n in closed],
            "message": "Closed: nothing answered from outside on "
            + ", ".join(f"{p.upper()} {n}" for p, n in closed)
            + ".",
        },
    )
    Site.objects.filter(pk=run.site_id).update(monitoring_closed_at=run.finished_at)
    record_event(
        action="site.monitoring_closed",
        organisation=run.site.organisation,
        target=run.site,
        after={"proven_at": run.finished_at.isoformat(), "probe_run": run.pk},
    )
    _complete_verify_steps(run, set(closed))


# An inbound check whose worker stopped under it this many times fails instead of being sent again.
INBOUND_CHECK_MAX_ATTEMPTS = 3


def requeue_stuck_inbound_runs(*, older_than_seconds: float | None = None) -> int:
    """Send again the inbound checks still running ``older_than_seconds`` (default: the task time
    limit) after they were claimed, and those asked for that long ago whose message never reached
    a worker; return how many were sent.

    Past the time limit no worker can still be checking (Celery kills a task at its hard limit), so
    the check's worker died or was killed. Its redelivered message finds the run running and leaves
    it alone, so that a check never runs beside a possibly live original; this sweep is what starts
    it again. Such a run goes back to waiting (one ``probe.requeued`` audit event) and is sent
    again, unless its token has expired (``expire_probe_runs`` then closes it) or it has had
    ``INBOUND_CHECK_MAX_ATTEMPTS`` attempts (it fails). The next attempt duplicates no result: a
    check records its observations only as it finishes, and at most one proof per port and run.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.CELERY_TASK_TIME_LIMIT
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    stuck = ProbeRun.objects.filter(
        state=ProbeRunState.RUNNING, direction=ProbeDirection.INBOUND, started_at__lte=cutoff
    ).values_list("pk", flat=True)
    sent = _resend_lost_check_requests(
        cutoff=now - timedelta(seconds=settings.JOB_REQUEUE_AFTER), now=now
    )
    for run_id in list(stuck):
        with transaction.atomic():
            run = (
                ProbeRun.objects.select_for_update()
                .select_related("site__organisation")
                .get(pk=run_id)
            )
            if run.state != ProbeRunState.RUNNING or run.started_at > cutoff:
                continue  # finished, or claimed again, meanwhile
            if run.attempts >= INBOUND_CHECK_MAX_ATTEMPTS:
                _end_attempt(run, AttemptOutcome.GAVE_UP, "The worker stopped during the check.")
                _close(
                    run,
                    ProbeRunState.FAILED,
                    {
                        "message": f"The check did not finish in {run.attempts} attempts: "
                        "its worker stopped each time.",
                    },
                )
                continue
            resend = run.expires_at > now
            _end_attempt(run, AttemptOutcome.LOST, "The worker stopped during the check.")
            ProbeRun.objects.filter(pk=run_id).update(
                state=ProbeRunState.WAITING, check_requested_at=now
            )
            record_event(
                action="probe.requeued",
                organisation=run.site.organisation,
                target=run,
                before={"state": ProbeRunState.RUNNING, "attempt": run.attempts},
                after={"state": ProbeRunState.WAITING, "resent": resend},
            )
            if resend:
                queue.enqueue_after_commit(queue.RUN_INBOUND_CHECK, run_id)
                sent += 1
    return sent


def _resend_lost_check_requests(*, cutoff, now) -> int:
    """Send again the checks asked for before ``cutoff`` that no worker has claimed: their
    message was lost (a broker restart without persistence, say). Sending one twice is safe:
    the first delivery claims the run, the second finds it claimed and does nothing."""
    lost = list(
        ProbeRun.objects.filter(
            state=ProbeRunState.WAITING,
            direction=ProbeDirection.INBOUND,
            check_requested_at__lte=cutoff,
            expires_at__gt=now,
        ).values_list("pk", flat=True)
    )
    for run_id in lost:
        # Pushed forward, so the next sweep waits another period before sending it again.
        ProbeRun.objects.filter(pk=run_id).update(check_requested_at=now)
        queue.enqueue(queue.RUN_INBOUND_CHECK, run_id)
    return len(lost)
