"""URL wiring of the site: the staff back office; public pages and the API join later."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "进博会交易团信息管理 · Expo delegation records"
admin.site.site_title = "交易团信息管理"
admin.site.index_title = "后台 · Back office"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
