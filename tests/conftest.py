import pytest


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests read messages in English unless a test asks for Chinese."""
    settings.LANGUAGE_CODE = "en"
