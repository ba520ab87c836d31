import pytest
from django.test.signals import setting_changed
from django.urls import clear_url_caches
from django.utils import translation


def _language_code_changed(*, setting: str, **kwargs) -> None:
    # The URL resolver caches its reversed paths per language, the language prefix of
    # i18n_patterns included, and Django clears that cache only when ROOT_URLCONF
    # changes: a test that makes Chinese the default language would otherwise get the
    # paths of a test that made it English.
    if setting == "LANGUAGE_CODE":
        clear_url_caches()


setting_changed.connect(_language_code_changed)


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests read messages in English unless a test asks for Chinese; a Chinese request
    made through the test client must not leak its language into the next test."""
    settings.LANGUAGE_CODE = "en"
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The API's request counts live in a per-process cache: each test starts with none."""
    from django.core.cache import caches

    caches["throttle"].clear()


@pytest.fixture(autouse=True)
def _static_files_as_they_are(settings):
    """Production's storage (hashed names from collectstatic's manifest) would need
    collectstatic first: the tests serve the apps' static files as they are, found in
    the apps' folders as development does, whatever DEBUG says."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _generation_read_afresh():
    """Each test's cache starts empty (its rows are rolled back with the test): the token
    a process holds from the test before is not this test's (deals/generation_watch.py)."""
    from deals.generation_watch import watch

    watch.reset()


@pytest.fixture(scope="session", autouse=True)
def _stop_listening(django_db_setup):
    """The connection listening for changes of the figures is closed before the test
    database is dropped (PostgreSQL refuses to drop a database in use)."""
    yield
    from deals.generation_watch import watch

    watch.close()
