from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    label = "sites"
    verbose_name = "Sites"

    def ready(self) -> None:
        from portal.accounts.home import register_home_contributor
        from sites import checks  # noqa: F401  (registers the probe addressing checks)
        from sites.home import home_figures

        register_home_contributor(home_figures)
