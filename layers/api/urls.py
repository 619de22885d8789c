from django.urls import path

from . import views

urlpatterns = [
    path("grids/", views.GridList.as_view(), name="grid-list"),
    path("grids/search/", views.GridSummaryList.as_view(), name="grid-search"),
    path("grids/locate/", views.GridLocate.as_view(), name="grid-locate"),
    path("grids/gaps/", views.CoverageGaps.as_view(), name="grid-gaps"),
    path("grids/reassignments/", views.ReassignmentList.as_view(), name="grid-reassignments"),
    path("grids/<str:code>/", views.GridDetail.as_view(), name="grid-detail"),
    path("grids/<str:code>/summary/", views.GridSummary.as_view(), name="grid-summary"),
    path("grids/<str:code>/versions/", views.GridVersions.as_view(), name="grid-versions"),
    path("grids/<str:code>/coverage/", views.GridCoverage.as_view(), name="grid-coverage"),
]
