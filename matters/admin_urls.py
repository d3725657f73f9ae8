from django.urls import path

from . import admin_views

app_name = "matters_admin"

urlpatterns = [
    path("todo/", admin_views.admin_todo, name="todo"),
    path("ledger/", admin_views.admin_ledger, name="ledger"),
    path("figures/", admin_views.admin_figures, name="figures"),
    path("rules/try/", admin_views.try_rules, name="try"),
]
