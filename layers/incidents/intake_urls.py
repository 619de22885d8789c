from django.urls import path

from . import intake_api

urlpatterns = [
    path("incidents/photos/", intake_api.PhotoUpload.as_view(), name="incident-photo-upload"),
    path("incidents/photos/<int:photo_id>/", intake_api.PhotoFile.as_view(), name="incident-photo"),
    path("incidents/<str:number>/photos/", intake_api.CasePhotoUpload.as_view(), name="incident-case-photos"),
    path("incidents/<str:number>/merge/", intake_api.CaseMergeView.as_view(), name="incident-merge"),
    path("incidents/<str:number>/duplicates/", intake_api.CaseDuplicates.as_view(), name="incident-duplicates"),
]
