"""Rotating SECRET_KEY: with the old key among SECRET_KEY_FALLBACKS, staff stay logged
in and signed values still read; without it, they do not."""

import pytest
from django.core import signing
from django.urls import reverse

from tests.factories import UserFactory

OLD = "old-secret-" + "x" * 50
NEW = "new-secret-" + "y" * 50


@pytest.fixture
def logged_in_with_the_old_key(client, db, settings):
    settings.SECRET_KEY = OLD
    settings.SECRET_KEY_FALLBACKS = []
    client.force_login(UserFactory(username="li.na", is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200
    return client


def test_a_session_made_with_the_old_key_lasts_while_the_key_is_a_fallback(
    logged_in_with_the_old_key, settings
):
    settings.SECRET_KEY = NEW
    settings.SECRET_KEY_FALLBACKS = [OLD]

    response = logged_in_with_the_old_key.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["user"].username == "li.na"


def test_a_session_made_with_a_dropped_key_ends(logged_in_with_the_old_key, settings):
    settings.SECRET_KEY = NEW
    settings.SECRET_KEY_FALLBACKS = []

    response = logged_in_with_the_old_key.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_value_signed_with_the_old_key_reads_while_the_key_is_a_fallback(settings):
    settings.SECRET_KEY = OLD
    signed = signing.dumps({"run": 7})

    settings.SECRET_KEY = NEW
    settings.SECRET_KEY_FALLBACKS = [OLD]
    assert signing.loads(signed) == {"run": 7}

    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        signing.loads(signed)
