"""At sign-in, decide once whether the session needs a second factor (so pages cost no query)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from portal.mfa.middleware import needs_nothing


@receiver(user_logged_in)
def _decide_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        needs_nothing(request, user)
