"""The admin's links to the spreadsheet import, shown only to staff who may use them."""

from django import template

from deals import import_admin

register = template.Library()


@register.simple_tag(takes_context=True)
def sheet_import_url(context, opts) -> str:
    """The import page with the sheet of the model `opts` describes chosen, if the user
    may import that sheet; "" otherwise."""
    request = context.get("request")
    if request is None or opts is None:
        return ""
    return import_admin.import_url(request.user, opts.model)


@register.simple_tag
def blank_template_url() -> str:
    """Where the blank template is downloaded, or "" while the site serves none."""
    return import_admin.blank_template_url()
