from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "deals-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sectors", views.SectorViewSet, basename="sector")
router.register("exhibitors", views.ExhibitorViewSet, basename="exhibitor")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("pledges", views.PledgeViewSet, basename="pledge")
router.register("publications", views.PublicationViewSet, basename="publication")
router.register("staff/sectors", views.SectorRecordViewSet, basename="staff-sector")
router.register(
    "staff/exchange-rates", views.ExchangeRateRecordViewSet, basename="staff-exchange-rate"
)
router.register("staff/exhibitors", views.ExhibitorRecordViewSet, basename="staff-exhibitor")
router.register("staff/agreements", views.AgreementRecordViewSet, basename="staff-agreement")
router.register("staff/visits", views.VisitRecordViewSet, basename="staff-visit")
router.register(
    "staff/investment-intentions",
    views.InvestmentIntentionRecordViewSet,
    basename="staff-investment-intention",
)
router.register(
    "staff/ciftis-pledges", views.CiftisPledgeRecordViewSet, basename="staff-ciftis-pledge"
)

urlpatterns = [
    path(
        "statistics/<slug:edition>/<slug:delegation>/",
        views.StatisticsView.as_view(),
        name="statistics",
    ),
    path(
        "staff/statistics/<slug:edition>/<slug:delegation>/",
        views.LiveStatisticsView.as_view(),
        name="staff-statistics",
    ),
    *router.urls,
]
