"""Load the story's facts and the illustrative demo population.

python manage.py migrate && python manage.py load_seeds
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_lazy as _

from seeds.loader import SeedError, load_seeds


class Command(BaseCommand):
    help = _(
        "Load the story's facts (the Beijing delegation at CIIE 2019) and the illustrative "
        "demo population around them. Only missing records are created: running it again "
        "changes nothing."
    )

    def handle(self, *args, verbosity: int, **options) -> None:
        try:
            tallies = load_seeds()
        except SeedError as error:
            raise CommandError(str(error)) from error
        if verbosity < 1:
            return
        width = max(len(tally.label) for tally in tallies)
        for tally in tallies:
            self.stdout.write(
                _("%(model)s  %(created)6d created, %(present)6d already there")
                % {
                    "model": tally.label.ljust(width),
                    "created": tally.created,
                    "present": tally.present,
                }
            )
        created = sum(tally.created for tally in tallies)
        if created:
            self.stdout.write(
                self.style.SUCCESS(_("Seeds loaded: %(n)d records created.") % {"n": created})
            )
        else:
            self.stdout.write(self.style.SUCCESS(_("Seeds already loaded: nothing to create.")))
