from django.urls import path

from . import api

urlpatterns = [
    path("patrols/fixes/", api.FixBatch.as_view(), name="patrol-fixes"),
    path("patrols/workers/<str:username>/days/<str:date>/", api.WorkerDay.as_view(), name="patrol-day"),
    path("patrols/days/<str:date>/workers/", api.DayWorkers.as_view(), name="patrol-day-workers"),
    path("patrols/positions/", api.LivePositions.as_view(), name="patrol-positions"),
    path("patrols/quarantine/", api.Quarantine.as_view(), name="patrol-quarantine"),
    path("patrols/devices/", api.DeviceClocks.as_view(), name="patrol-devices"),
    path("patrols/heatmap.tif", api.Heatmap.as_view(), name="patrol-heatmap"),
    path("patrols/heatmap/legend/", api.HeatmapLegend.as_view(), name="patrol-heatmap-legend"),
    path("patrols/coverage/", api.CoverageReport.as_view(), name="patrol-coverage"),
    path("patrols/unvisited-grids/", api.UnvisitedGrids.as_view(), name="patrol-unvisited-grids"),
    path("patrols/nearest-workers/", api.NearestWorkers.as_view(), name="patrol-nearest-workers"),
]
