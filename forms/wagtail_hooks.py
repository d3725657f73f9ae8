"""Form pages in the portal: admin submission detail, the 表单 link, the answers panel on a
matter's page and the demo forms."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from portal.nav import NavItem

from . import admin_urls
from .models import FormField, FormIndexPage, Submission


@hooks.register("register_admin_urls")
def register_forms_admin_urls():
    return [path("form-submissions/", include(admin_urls, namespace="forms_admin"))]


@hooks.register("portal_nav_items")
def forms_nav(request):
    index = FormIndexPage.objects.live().only("url_path", "path").order_by("path").first()
    if index is None:
        return None
    return NavItem(label=str(_("表单")), url=index.get_url(request=request), order=20)


@hooks.register("matters_detail_panels")
def submission_answers_panel(request, matter):
    submission = Submission.objects.filter(matter=matter).first()
    if submission is None:
        return None
    fields = list(FormField.objects.filter(page_id=submission.page_id))
    return {
        "template": "forms/panels/submission_answers.html",
        "order": 10,
        "submission": submission,
        "rows": submission.display_rows(fields),
    }


@hooks.register("portal_seed_demo")
def seed_forms_demo(log):
    from .demo import seed_forms

    seed_forms(log)


seed_forms_demo.order = 20
