"""Notice actions under /notices/; the notice list and pages themselves are Wagtail pages."""

from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("confirm/<int:pk>/", views.confirm, name="confirm"),
    path("file/<int:pk>/<int:attachment_id>/", views.attachment, name="attachment"),
    path("statistics/<int:pk>/", views.statistics, name="statistics"),
    path("statistics/<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("statistics/<int:pk>/remind/", views.remind, name="remind"),
]
