"""What every public page's frame needs: the language switcher's links, which keep the
page and its query, and the page's `lang` as BCP 47 writes it (zh-Hans)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language, to_locale


def bcp47(code: str) -> str:
    return to_locale(code).replace("_", "-")


def languages(request: HttpRequest) -> dict[str, Any]:
    current = get_language()
    path = request.get_full_path()
    return {
        "html_lang": bcp47(current or settings.LANGUAGE_CODE),
        "language_links": [
            {
                "code": code,
                "lang": bcp47(code),
                "name": name,
                "url": translate_url(path, code),
                "current": code == current,
            }
            for code, name in settings.LANGUAGES
        ],
    }
