import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests read messages in English unless a test asks for Chinese; a Chinese request
    made through the test client must not leak its language into the next test."""
    settings.LANGUAGE_CODE = "en"
    yield
    translation.deactivate()
