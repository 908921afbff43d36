"""``manage.py mfa_reset USERNAME``: remove a person's second factors (a lost phone or key: the
app, security keys, passkeys, recovery codes), audited."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.audit import context
from portal.mfa.services import reset_mfa


class Command(BaseCommand):
    help = (
        "Remove a person's two-factor authentication (app, security keys, passkeys), so they can "
        "enrol again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No person with the username {username!r}.")
        context.begin_command_context(name="mfa_reset")
        try:
            removed = reset_mfa(user=user)
        finally:
            context.clear_context()
        if removed:
            self.stdout.write(f"Two-factor authentication of {username} removed.")
        else:
            self.stdout.write(f"{username} had no two-factor authentication.")
