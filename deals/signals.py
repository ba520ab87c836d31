"""Cache invalidation, and nothing else: a saved, deleted or relinked record of the
bureau marks the cached headline figures stale (`stats.figures_changed`).

Connected in `DealsConfig.ready()`. `bulk_create` and `QuerySet.update()` send no
signals: the spreadsheet import and its undo, which write that way, call
`figures_changed()` themselves.
"""

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from .stats import figures_changed

# The apps whose records the figures are computed from. Reference lists (sectors,
# exchange rates) are included: a page's labels come from them, and an extra refresh
# costs one recomputation. An import run's own bookkeeping changes no record.
APPS = {"delegations", "deals"}
IGNORED = {"ImportRun"}


def _records_changed(sender, **kwargs) -> None:
    if sender._meta.apps is not apps:
        # A migration's historical model: its data migrations run before the cache table
        # exists, and no figure has been cached from a database being migrated.
        return
    name = sender.__name__
    if sender._meta.app_label in APPS and name not in IGNORED and not name.startswith("Historical"):
        figures_changed()


def connect() -> None:
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_records_changed, dispatch_uid=f"figures-changed-{id(signal)}")
