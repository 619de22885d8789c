from django.urls import path

from . import api

urlpatterns = [
    path("patrols/fixes/", api.FixBatch.as_view(), name="patrol-fixes"),
    path("patrols/workers/<str:username>/days/<str:date>/", api.WorkerDay.as_view(), name="patrol-day"),
    path("patrols/coverage/", api.CoverageReport.as_view(), name="patrol-coverage"),
    path("patrols/unvisited-grids/", api.UnvisitedGrids.as_view(), name="patrol-unvisited-grids"),
    path("patrols/nearest-workers/", api.NearestWorkers.as_view(), name="patrol-nearest-workers"),
]
