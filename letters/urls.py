"""Front-end URLs of the letters app (mounted at /letters/)."""

from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/receive/", views.receive, name="receive"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/pdf/", views.download_pdf, name="pdf"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.download_attachment, name="attachment"),
]
