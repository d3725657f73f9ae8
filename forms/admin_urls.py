from django.urls import path

from .views import SubmissionDetailView

app_name = "forms_admin"

urlpatterns = [
    path("submission/<int:pk>/", SubmissionDetailView.as_view(), name="submission"),
]
