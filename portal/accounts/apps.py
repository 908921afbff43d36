from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"

    def ready(self):
        from portal.accounts import (
            actor_cache,  # noqa: F401  (forgets grants on changes)
            signals,  # noqa: F401  (login / failed-login audit events)
        )
