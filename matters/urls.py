from django.urls import path

from . import views

app_name = "matters"

urlpatterns = [
    path("mine/", views.my_submissions, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/comment/", views.comment, name="comment"),
    path("<int:pk>/attach/", views.attach, name="attach"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
