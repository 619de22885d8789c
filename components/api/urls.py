from django.urls import path

from . import imports, views

urlpatterns = [
    path("components/", views.ComponentList.as_view(), name="component-list"),
    path("components/within/", views.ComponentWithin.as_view(), name="component-within"),
    path("components/transfer/", views.ComponentTransfer.as_view(), name="component-transfer"),
    path("components/organisations/", views.ComponentOrganisations.as_view(), name="component-organisations"),
    path("components/<str:code>/", views.ComponentDetail.as_view(), name="component-detail"),
    path("components/<str:code>/ownership/", views.ComponentOwnership.as_view(), name="component-ownership"),
    path("components/<str:code>/state/", views.ComponentStateChange.as_view(), name="component-state"),
    path("components/<str:code>/retire/", views.ComponentRetire.as_view(), name="component-retire"),
    path("components/<str:code>/photos/", views.ComponentPhotos.as_view(), name="component-photos"),
    path("components/<str:code>/history/", views.ComponentHistory.as_view(), name="component-history"),
    path("organisations/", views.OrganisationList.as_view(), name="organisation-list"),
    path("organisations/<str:uscc>/", views.OrganisationDetail.as_view(), name="organisation-detail"),
    path("organisations/<str:uscc>/summary/", views.OrganisationSummary.as_view(), name="organisation-summary"),
    path(
        "organisations/<str:uscc>/components/", views.OrganisationComponents.as_view(), name="organisation-components"
    ),
    path("classes/", views.ClassList.as_view(), name="class-list"),
    path("states/", views.StateList.as_view(), name="state-list"),
]
urlpatterns += imports.urlpatterns
