from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelegationsConfig(AppConfig):
    name = "delegations"
    verbose_name = _("Delegations and organizations")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from .search import forget_presence

        # Whether the SQLite text indexes exist is read once a connection (search.py).
        connection_created.connect(forget_presence, dispatch_uid="text-indexes-connection")
        post_migrate.connect(forget_presence, dispatch_uid="text-indexes-migrated")
