"""The public headline pages, whole, for visitors without a session: rendered once per
generation of the figures and served from the cache until a record changes.

A page's figures are cached already (`stats.cached_many`); rendering the page around
them (the press paragraph, four charts, the links) and passing the request through
every middleware still cost many times what serving a file costs. So a view that sets
`public_page_cache = True` marks its answer with the generation of the figures it was
rendered under, `PublicPageCacheMiddleware` stores that answer (body and headers, as
the inner middleware left them), and it answers the next visitor with it before
anything else runs: one round trip to the shared cache for the generation, and the
page itself from this process's copy when it has one of that generation (else from the
shared cache). Every change of the records replaces the generation
(`stats.figures_changed`), so a stored page is never served after one; a publication is
such a change.

Only what every visitor gets is stored: a GET without a query string (so a visitor
cannot fill the cache with made-up addresses), from a visitor without a session cookie
(staff are logged in, and their pages differ: the preview link, the live figures),
answered 200 without cookies or `Cache-Control`. The address names the language
(`/en/...`), and the key names the host and the address. A stored page expires after
`EXPO["PAGE_CACHE_SECONDS"]`, so that a deployment's new templates are served within
that time even when no record changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation

from .generation_watch import watch
from .stats import CACHE_FORMAT, GENERATION_KEY, current_generation


def page_key(request: HttpRequest) -> str:
    address = f"{request.get_host()}{request.path}".encode()
    return f"stats:v{CACHE_FORMAT}:page:{hashlib.sha256(address).hexdigest()}"


def may_cache(request: HttpRequest) -> bool:
    """Whether `request` gets the page every visitor gets."""
    return (
        request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _view_class(request: HttpRequest) -> type | None:
    """The class of the view the address names, resolved in the address's language
    (`/en/...`), as the locale middleware will resolve it. Remembered by address (and
    URL configuration): resolving was an eighth of a stored page's answer."""
    path = request.path_info
    urlconf = getattr(request, "urlconf", None)
    key = (path, urlconf or settings.ROOT_URLCONF, settings.LANGUAGE_CODE)
    if key in _resolved:
        return _resolved[key]
    language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            match = resolve(path, urlconf)
        except Resolver404:
            view_class = None
        else:
            view_class = getattr(match.func, "view_class", None)
    if len(_resolved) >= RESOLVED:
        _resolved.clear()  # the addresses visitors make up cannot fill the memory
    _resolved[key] = view_class
    return view_class


# The view classes of the addresses this process answered lately, at most RESOLVED.
RESOLVED = 2048
_resolved: dict[tuple[str, str, str], type | None] = {}


# This process's copies of the pages it served lately, by key: a page of the whole
# expo is about 90 KB, whose transfer from the shared cache cost more than the rest of
# the answer. A copy is served only under the generation the shared cache holds now,
# read on every request, so a change of records made through any process replaces it
# as it replaces the shared one. At most COPIES of them, the oldest dropped first.
COPIES = 64
_copies: dict[str, dict] = {}


def _keep(key: str, stored: dict) -> None:
    _copies.pop(key, None)
    _copies[key] = stored
    while len(_copies) > COPIES:
        del _copies[next(iter(_copies))]


class PublicPageCacheMiddleware:
    """Answers a request for a page stored under the current generation of the figures,
    and stores the pages that views mark. Placed right after SecurityMiddleware: a
    stored page skips the rest, and carries the headers the rest gave it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view_class = _view_class(request) if may_cache(request) else None
        if not getattr(view_class, "public_page_cache", False):
            return self.get_response(request)
        key = page_key(request)
        generation = watch.current(lambda: cache.get(GENERATION_KEY))
        stored = _copies.get(key)
        if stored is None or stored["generation"] != generation:
            stored = cache.get(key)
        if stored is not None and generation is not None and stored["generation"] == generation:
            _keep(key, stored)
            response = HttpResponse(stored["content"])
            for header, value in stored["headers"]:
                response[header] = value
            return response
        response = self.get_response(request)
        if getattr(response, "page_cache_generation", generation) != generation:
            # The shared token is not the one this process holds (replaced without a
            # change of records: the cache cleared, the entry culled): read it again.
            watch.forget()
        generation = getattr(response, "page_cache_generation", None)
        if (
            generation is not None
            and request.method == "GET"
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
            and not response.has_header("Cache-Control")
        ):
            stored = {
                "generation": generation,
                "content": response.content,
                "headers": list(response.items()),
            }
            cache.set(key, stored, timeout=settings.EXPO["PAGE_CACHE_SECONDS"])
            _keep(key, stored)
        return response


class PublicPageCacheMixin:
    """A view whose page every visitor gets may be stored: its answer carries the
    generation of the figures it was rendered under."""

    public_page_cache = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_cache(request):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        # Read before the page is computed: were the records to change meanwhile, the
        # page would be stored under the generation that change replaces.
        generation = current_generation()
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        response.page_cache_generation = generation
        return response
