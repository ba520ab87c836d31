from django.urls import path

from . import views

app_name = "deals"

DELEGATION = "<slug:edition>/<slug:delegation>"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(f"{DELEGATION}/", views.HeadlineView.as_view(), name="headline"),
    path(
        f"{DELEGATION}/figures.<download:format>",
        views.FiguresDownloadView.as_view(),
        name="figures_download",
    ),
    path(
        f"{DELEGATION}/publications/",
        views.PublicationListView.as_view(),
        name="publications",
    ),
    path(f"{DELEGATION}/agreements/", views.AgreementListView.as_view(), name="agreements"),
    path(
        f"{DELEGATION}/agreements.<download:format>",
        views.AgreementDownloadView.as_view(),
        name="agreements_download",
    ),
    path(
        f"{DELEGATION}/agreement-totals.<download:format>",
        views.TotalsDownloadView.as_view(),
        name="totals_download",
    ),
    path(f"{DELEGATION}/exhibitors/", views.ExhibitorListView.as_view(), name="exhibitors"),
    path(
        f"{DELEGATION}/exhibitors.<download:format>",
        views.ExhibitorDownloadView.as_view(),
        name="exhibitors_download",
    ),
    path(f"{DELEGATION}/pledges/", views.PledgeListView.as_view(), name="pledges"),
    path(
        f"{DELEGATION}/pledges.<download:format>",
        views.PledgeDownloadView.as_view(),
        name="pledges_download",
    ),
]
