from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"

    def ready(self):
        from portal.accounts import (
            actor_cache,  # noqa: F401  (forgets grants on changes)
            session_records,  # noqa: F401  (a record per session)
            signals,  # noqa: F401  (login / failed-login audit events)
        )
