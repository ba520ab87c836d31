"""The public headline pages, whole, for visitors without a session: rendered once per
generation of the figures and served from the cache until a record changes.

A page's figures are cached already (`stats.cached_many`); rendering the page around
them (the press paragraph, four charts, the links) still costs tens of milliseconds,
many times what serving a file costs. So a view that sets `public_page_cache = True`
stores its rendered page in the cache next to the generation of the figures it was
rendered under, and `PublicPageCacheMiddleware` answers the next visitor with it,
before the view runs, in one round trip to the cache (the generation and the page
together). Every change of the records replaces the generation
(`stats.figures_changed`), so a stored page is never served after one; a publication
is such a change.

Only what every visitor gets is stored: a GET or HEAD without a query string (so a
visitor cannot fill the cache with made-up addresses), from a visitor without a session
cookie (staff are logged in, and their pages differ: the preview link, the live
figures), answered 200 without cookies or `Cache-Control`. The address names the
language (`/en/...`), and the key names the host and the address. A stored page expires
after `EXPO["PAGE_CACHE_SECONDS"]`, so that a deployment's new templates are served
within that time even when no record changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

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


class PublicPageCacheMiddleware:
    """Answers a cacheable request for a page stored under the current generation of
    the figures, before its view runs (so without the view's transaction). Placed last
    in MIDDLEWARE: every other middleware has seen the request, and sees the answer, as
    it would the view's."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func, view_args, view_kwargs
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "view_class", None)
        if not getattr(view_class, "public_page_cache", False) or not may_cache(request):
            return None
        key = page_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        stored = found.get(key)
        if stored is None or found.get(GENERATION_KEY) != stored["generation"]:
            return None
        return HttpResponse(stored["content"], content_type=stored["content_type"])


class PublicPageCacheMixin:
    """A view whose page `PublicPageCacheMiddleware` may serve from the cache: it
    stores what it renders for a cacheable request."""

    public_page_cache = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_cache(request):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        # Read before the page is computed: were the records to change meanwhile, the
        # page would be stored under the generation that change replaces.
        generation = current_generation()
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        if hasattr(response, "render"):
            response.render()
        if (
            response.status_code == 200
            and not response.cookies
            and not response.has_header("Cache-Control")
            and not getattr(response, "streaming", False)
        ):
            cache.set(
                page_key(request),
                {
                    "generation": generation,
                    "content": response.content,
                    "content_type": response["Content-Type"],
                },
                timeout=settings.EXPO["PAGE_CACHE_SECONDS"],
            )
        return response
