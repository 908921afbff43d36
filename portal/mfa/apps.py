from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "portal.mfa"
    label = "mfa"
    verbose_name = "Two-factor authentication"

    def ready(self):
        from portal.mfa import signals  # noqa: F401  (the session's second-factor state at sign-in)
