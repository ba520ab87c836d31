"""Which language a request is served in."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.urls import LocalePrefixPattern, Resolver404, URLResolver, get_resolver
from django.utils import translation


@cache
def _unprefixed_patterns(urlconf: str) -> tuple:
    """The top-level URL patterns outside `i18n_patterns`: the back office, the API."""
    return tuple(
        pattern
        for pattern in get_resolver(urlconf).url_patterns
        if not (
            isinstance(pattern, URLResolver) and isinstance(pattern.pattern, LocalePrefixPattern)
        )
    )


class SiteLocaleMiddleware(LocaleMiddleware):
    """The public pages take their language from their address: no prefix is Chinese,
    `/en/` English, whatever the browser says, so that a link always shows the page it
    names. Django's middleware would then force Chinese on every address without a
    prefix, the back office included; there staff keep the language they chose (the
    language cookie) or their browser's, as before the public pages existed."""

    def process_request(self, request: HttpRequest) -> None:
        if self._outside_public_pages(request):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)

    def _outside_public_pages(self, request: HttpRequest) -> bool:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        path = request.path_info.removeprefix("/")
        for pattern in _unprefixed_patterns(urlconf):
            try:
                if pattern.resolve(path):
                    return True
            except Resolver404:
                continue
        return False
