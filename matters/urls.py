from django.urls import path

from . import views, work_views

app_name = "matters"

urlpatterns = [
    path("mine/", views.my_submissions, name="mine"),
    path("todo/", work_views.todo, name="todo"),
    path("ledger/", work_views.ledger, name="ledger"),
    path("figures/", work_views.figures, name="figures"),
    path("<int:pk>/act/<slug:action>/", work_views.act, name="act"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/comment/", views.comment, name="comment"),
    path("<int:pk>/attach/", views.attach, name="attach"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
