"""URL wiring of the site: the staff back office, and the public pages in Chinese (no
prefix, the default) and English (`/en/`)."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from deals.views_admin import blank_template
from delegations.api.views import TokenView
from delegations.api.views import not_found as api_not_found
from delegations.tables import DownloadFormatConverter
from expo_site.apidocs import redoc_view, swagger_view
from expo_site.health import healthz

admin.site.site_header = "进博会交易团信息管理 · Expo delegation records"
admin.site.site_title = "交易团信息管理"
admin.site.index_title = "后台 · Back office"

# `organizations.csv`, `figures.json`: a download names its format like a file does.
register_converter(DownloadFormatConverter, "download")


def admin_urls():
    """The admin site's URLs, with the blank spreadsheet template among them
    (`admin:deals_blank_template`), for staff only like every admin page."""
    patterns, app_name, namespace = admin.site.urls
    template = path(
        "deals/template.xlsx",
        admin.site.admin_view(blank_template),
        name="deals_blank_template",
    )
    return [template, *patterns], app_name, namespace


api_urls = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", swagger_view, name="docs"),
    path("redoc/", redoc_view, name="redoc"),
    path("token/", TokenView.as_view(), name="token"),
]

urlpatterns = [
    # For load balancers and monitors: see docs/operations.md.
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin_urls()),
    # The API: public endpoints under /api/, staff ones under /api/staff/, the OpenAPI
    # schema at /api/schema/ and its documentation at /api/docs/.
    path("api/", include((api_urls, "api"))),
    path("api/", include("delegations.api.urls")),
    path("api/", include("deals.api.urls")),
    re_path(r"^api/", api_not_found),
    *i18n_patterns(
        path("", include("delegations.urls")),
        path("", include("deals.urls")),
        prefix_default_language=False,
    ),
]
