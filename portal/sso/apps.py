from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "portal.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from portal.sso import checks  # noqa: F401  (OIDC_PROVIDERS is checked at start-up)
