from django.urls import path

from . import ledger, views

app_name = "emergencies"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("on-duty/", views.on_duty_now, name="on_duty"),
    path("roster/", views.roster_tools, name="roster_tools"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("ledger/", ledger.ledger, name="ledger"),
    path("figures/", ledger.figures, name="figures"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/timeline/", views.timeline, name="timeline"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/update/", views.update, name="update"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/group/", views.group, name="group"),
    path("<int:pk>/review/", views.review, name="review"),
    path("photos/<int:pk>/", views.photo, name="photo"),
]
