"""Logins, logouts and failed logins are audit events."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

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
