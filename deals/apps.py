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
