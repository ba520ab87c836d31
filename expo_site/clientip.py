"""The client's address of a request, as the site counts clients."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent `request`.

    Without proxies (`NUM_PROXIES = 0`) it is the connection's own, REMOTE_ADDR; any
    X-Forwarded-For is the client's word and ignored. Behind N proxies it is the address
    the outermost proxy saw, which it appended to X-Forwarded-For: the N-th entry from
    the right. Entries further left are the client's word again. This is the rule Django
    REST framework applies with the same `NUM_PROXIES` to the API's throttling, so that
    the API and the admin's login lockout count the same clients.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    if not settings.NUM_PROXIES or not forwarded_for:
        return remote_addr
    addresses = [address.strip() for address in forwarded_for.split(",")]
    return addresses[-min(settings.NUM_PROXIES, len(addresses))] or remote_addr
