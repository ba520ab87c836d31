from django.urls import path

from . import views

app_name = "delegations"

urlpatterns = [
    path("fairs/", views.FairIndexView.as_view(), name="index"),
    path(
        "<slug:edition>/<slug:delegation>/organizations/",
        views.OrganizationListView.as_view(),
        name="organizations",
    ),
    path(
        "<slug:edition>/<slug:delegation>/organizations.<download:format>",
        views.OrganizationDownloadView.as_view(),
        name="organizations_download",
    ),
    path("<slug:edition>/", views.EditionView.as_view(), name="edition"),
]
