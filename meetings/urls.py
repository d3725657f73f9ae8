from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.request_meeting, name="request"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/respond/", views.respond, name="respond"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/qr.svg", views.sign_in_qr, name="qr"),
    path("<int:pk>/sign-in/<str:token>/", views.sign_in, name="sign_in"),
    path("<int:pk>/agenda/", views.agenda_submit, name="agenda_submit"),
    path("<int:pk>/agenda/arrange/", views.agenda_arrange, name="agenda_arrange"),
    path("<int:pk>/minutes/", views.minutes_edit, name="minutes"),
    path("<int:pk>/minutes/action/", views.minutes_action, name="minutes_action"),
    path("<int:pk>/minutes/print/", views.minutes_print, name="minutes_print"),
    path("<int:pk>/invite.ics", views.invitation, name="ics"),
    path("<int:pk>/pack/", views.pack, name="pack"),
    path("calendar/", views.feed_settings, name="feed_settings"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
    path("decisions/", views.ledger, name="ledger"),
    path("decisions/<int:pk>/close/", views.close_decision, name="close_decision"),
    path("weekly/", views.weekly, name="weekly"),
    path("training/", views.training, name="training"),
]
