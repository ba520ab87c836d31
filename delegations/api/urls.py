from rest_framework.routers import DefaultRouter

from . import views

app_name = "delegations-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("fairs", views.FairViewSet, basename="fair")
router.register("editions", views.EditionViewSet, basename="edition")
router.register("delegations", views.DelegationViewSet, basename="delegation")
router.register("participants", views.ParticipationViewSet, basename="participant")
router.register("staff/fairs", views.FairRecordViewSet, basename="staff-fair")
router.register("staff/editions", views.EditionRecordViewSet, basename="staff-edition")
router.register("staff/delegations", views.DelegationRecordViewSet, basename="staff-delegation")
router.register(
    "staff/organizations", views.OrganizationRecordViewSet, basename="staff-organization"
)
router.register(
    "staff/registrations", views.RegistrationRecordViewSet, basename="staff-registration"
)

urlpatterns = router.urls
