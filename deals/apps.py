from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = _("Agreements, visits and follow-up")

    def ready(self) -> None:
        # The spreadsheet import's admin pages and history register themselves.
        from . import (
            import_admin,  # noqa: F401
            signals,
        )

        signals.connect()

        # The staff dashboard is the admin's front page (see deals.dashboard.install).
        from django.contrib import admin

        from .dashboard import install

        install(admin.site)
