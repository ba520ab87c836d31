"""Create or refresh the staff login of a demonstration, with a new random password."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Made, with its permissions, by the migration deals/0002_sectors_and_staff_groups.
REVIEWERS = "审核发布 · Reviewers"
ADMIN_URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = (
        "Create or update a staff user in the reviewers group (the role a bureau reviewer "
        "has, not a superuser unless --superuser is given), give it a new random "
        "password and print the login. Run it again to get a new password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="clerk", help="Default: clerk.")
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="Make the user a superuser too, for administering the site itself.",
        )

    @transaction.atomic
    def handle(self, *args, username: str, superuser: bool, **options) -> None:
        try:
            reviewers = Group.objects.get(name=REVIEWERS)
        except Group.DoesNotExist as error:
            raise CommandError(
                f"The group “{REVIEWERS}” does not exist: run `manage.py migrate` first."
            ) from error
        user, _created = get_user_model().objects.get_or_create(username=username)
        # Never a fixed password: a demo database copied elsewhere opens to no one.
        password = secrets.token_urlsafe(16)
        user.set_password(password)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = superuser
        user.save()
        user.groups.add(reviewers)
        # Scripts read these two lines: they stay in English.
        self.stdout.write(f"Staff login: username {username} password {password}")
        self.stdout.write(ADMIN_URL)
