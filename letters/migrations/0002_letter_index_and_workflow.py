"""The letter index under the home page, the 函件签发流程 workflow (部门负责人审核 → 分管领导签发)
and the groups that may draft letters and review them. Administrators change all of these in
the admin afterwards; this only seeds them once."""

from django.db import migrations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPLEN = 4


def _next_child_path(Page, parent):
    last = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).order_by("-path").first()
    if last is None:
        return parent.path + "0001"
    n = 0
    for ch in last.path[-STEPLEN:]:
        n = n * len(ALPHABET) + ALPHABET.index(ch)
    n += 1
    digits = ""
    while n:
        n, r = divmod(n, len(ALPHABET))
        digits = ALPHABET[r] + digits
    return parent.path + digits.rjust(STEPLEN, "0")


def seed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    Page = apps.get_model("wagtailcore.Page")
    Locale = apps.get_model("wagtailcore.Locale")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    LetterIndexPage = apps.get_model("letters.LetterIndexPage")
    DepartmentRoleTask = apps.get_model("letters.DepartmentRoleTask")

    home = Page.objects.filter(depth=2).order_by("path").first()
    index = LetterIndexPage.objects.first()
    if index is None and home is not None:
        index_ct, _ = ContentType.objects.get_or_create(app_label="letters", model="letterindexpage")
        index = LetterIndexPage.objects.create(
            title="部门间函件",
            draft_title="部门间函件",
            slug="correspondence",
            content_type=index_ct,
            path=_next_child_path(Page, home),
            depth=home.depth + 1,
            numchild=0,
            url_path=f"{home.url_path}correspondence/",
            live=True,
            locale_id=home.locale_id or Locale.objects.order_by("pk").first().pk,
            intro="部门之间正式行文：起草、部门负责人审核、分管领导签发后编号发送，收文部门签收并复函，签发后自动归档为 PDF。",
        )
        Page.objects.filter(pk=home.pk).update(numchild=home.numchild + 1)

    task_ct, _ = ContentType.objects.get_or_create(app_label="letters", model="departmentroletask")
    review, _ = DepartmentRoleTask.objects.get_or_create(
        name="部门负责人审核", defaults={"role": "head", "active": True, "content_type": task_ct}
    )
    sign, _ = DepartmentRoleTask.objects.get_or_create(
        name="分管领导签发", defaults={"role": "supervising_leader", "active": True, "content_type": task_ct}
    )
    workflow, created = Workflow.objects.get_or_create(name="函件签发流程", defaults={"active": True})
    if created:
        WorkflowTask.objects.create(workflow=workflow, task_id=review.pk, sort_order=0)
        WorkflowTask.objects.create(workflow=workflow, task_id=sign.pk, sort_order=1)
    if index is not None:
        WorkflowPage.objects.get_or_create(page_id=index.pk, defaults={"workflow": workflow})

    # Groups: drafters may create letters under the index (and edit their own drafts); reviewers
    # only need the admin, their task opens the letter to them.
    admin_ct, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access_admin, _ = Permission.objects.get_or_create(
        content_type=admin_ct, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )
    page_ct, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="page")
    add_page, _ = Permission.objects.get_or_create(content_type=page_ct, codename="add_page", defaults={"name": "Can add page"})
    drafters, _ = Group.objects.get_or_create(name="函件起草人")
    reviewers, _ = Group.objects.get_or_create(name="函件审核签发人")
    drafters.permissions.add(access_admin)
    reviewers.permissions.add(access_admin)
    if index is not None:
        GroupPagePermission.objects.get_or_create(group=drafters, page_id=index.pk, permission=add_page)


def unseed(apps, schema_editor):
    apps.get_model("wagtailcore.Workflow").objects.filter(name="函件签发流程").delete()
    apps.get_model("letters.DepartmentRoleTask").objects.filter(name__in=["部门负责人审核", "分管领导签发"]).delete()
    apps.get_model("auth.Group").objects.filter(name__in=["函件起草人", "函件审核签发人"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0001_initial"),
        ("home", "0002_create_homepage"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
