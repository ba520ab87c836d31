"""Filters that print figures in the active language (see `deals.formatting`)."""

from django import template

from deals import formatting

register = template.Library()

register.filter("number", formatting.number)
register.filter("percent", formatting.percent)
register.filter("signed_percent", formatting.signed_percent)
register.filter("usd", formatting.usd)
register.filter("usd_compact", formatting.usd_compact)


@register.simple_tag(takes_context=True)
def page_url(context, page_number: int) -> str:
    """The current list's address at another page, its filters kept."""
    query = context.get("query")
    return f"?{query}&page={page_number}" if query else f"?page={page_number}"
