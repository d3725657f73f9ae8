"""Re-create the letter index and the 函件签发流程 workflow when missing (the data migration does it
once; tests that flush the database and repair scripts call this)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from wagtail.models import GroupPagePermission, Page, Workflow, WorkflowPage, WorkflowTask

from .models import DepartmentRoleTask, LetterIndexPage

WORKFLOW_NAME = "函件签发流程"


@transaction.atomic
def ensure_letter_setup() -> LetterIndexPage:
    index = LetterIndexPage.objects.first()
    if index is None:
        home = Page.objects.filter(depth=2).order_by("path").first()
        if home is None:
            from wagtail.models import Locale

            Locale.objects.get_or_create(language_code=Locale.get_active().language_code if Locale.objects.exists() else "zh-hans")
            root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
            from home.models import HomePage

            home = root.add_child(instance=HomePage(title="协调门户首页", slug="home"))
            from wagtail.models import Site

            Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home})
        index = home.add_child(instance=LetterIndexPage(title="部门间函件", slug="correspondence"))
    review, _ = DepartmentRoleTask.objects.get_or_create(name="部门负责人审核", defaults={"role": "head"})
    sign, _ = DepartmentRoleTask.objects.get_or_create(name="分管领导签发", defaults={"role": "supervising_leader"})
    workflow, created = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    if created:
        WorkflowTask.objects.create(workflow=workflow, task=review, sort_order=0)
        WorkflowTask.objects.create(workflow=workflow, task=sign, sort_order=1)
    WorkflowPage.objects.get_or_create(page=index, defaults={"workflow": workflow})
    drafters, _ = Group.objects.get_or_create(name="函件起草人")
    reviewers, _ = Group.objects.get_or_create(name="函件审核签发人")
    access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    drafters.permissions.add(access)
    reviewers.permissions.add(access)
    add_page = Permission.objects.get(content_type__app_label="wagtailcore", codename="add_page")
    GroupPagePermission.objects.get_or_create(group=drafters, page=index, permission=add_page)
    return index
