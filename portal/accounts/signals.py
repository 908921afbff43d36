"""Logins, logouts, failed logins and lockouts are audit events."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.accounts.throttling import lockout_ends_at
from portal.audit.services import record_event


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_event(action="auth.login", by=user, target=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(action="auth.logout", by=user, target=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in ``credentials``; keep only the username.
    username = str(credentials.get("username", ""))[:150]
    record_event(action="auth.login_failed", actor_label=username, after={"username": username})


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    # axes also sends this for each refused attempt during a lockout; only the failure that
    # reached the limit carries a count, and only that one starts a lockout.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    until = lockout_ends_at(request, request.axes_credentials)
    record_event(
        action="auth.locked_out",
        actor_label=str(username or ip_address or "")[:150],
        after={
            "username": username or "",
            "ip_address": ip_address,
            "failures": failures,
            "until": until.isoformat() if until else None,
        },
    )
