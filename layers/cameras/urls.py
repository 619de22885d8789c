from django.urls import path

from . import api

urlpatterns = [
    path("cameras/", api.CameraList.as_view(), name="camera-list"),
    path("cameras/seeing/", api.Seeing.as_view(), name="camera-seeing"),
    path("cameras/blind-grids/", api.BlindGrids.as_view(), name="camera-blind-grids"),
    path("cameras/<int:pk>/", api.CameraDetail.as_view(), name="camera-detail"),
]
