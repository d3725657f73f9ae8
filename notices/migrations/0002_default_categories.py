"""The four categories the company uses; administrators may rename or add more."""

from django.db import migrations

CATEGORIES = [("通知", "tag-blue", 10), ("通报", "tag-amber", 20), ("制度", "tag-green", 30), ("公告", "tag-red", 40)]


def add_categories(apps, schema_editor):
    NoticeCategory = apps.get_model("notices", "NoticeCategory")
    for name, colour, order in CATEGORIES:
        NoticeCategory.objects.get_or_create(name=name, defaults={"colour": colour, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
