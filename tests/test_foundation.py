"""The platform: login for the whole intranet, organisation rules, demo data, configuration."""

import io
import os
import subprocess
import sys

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

import pytest

from portal.models import Department, Role, User, WorkDay
from portal.models.people import users_with_role

pytestmark = pytest.mark.django_db


def test_front_end_requires_login_and_returns_after(client, org):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/inbox/")
    page = client.get(response["Location"])
    assert "登录协调门户" in page.content.decode()
    done = client.post(
        reverse("login"), {"username": "cs_staff", "password": "demo1234", "next": "/inbox/"}
    )
    assert done.status_code == 302 and done["Location"] == "/inbox/"


def test_home_page_renders_in_chinese_after_login(login, org):
    response = login(org.users["cs_staff"]).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "站内信" in html and "退出" in html


def test_wrong_password_is_explained_in_chinese(client, org):
    response = client.post(reverse("login"), {"username": "cs_staff", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert 'value="cs_staff"' in response.content.decode()  # what the person typed is kept


def test_repeated_failed_logins_are_throttled_with_chinese_message(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "cs_staff", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "cs_staff", "password": "demo1234"})
    assert locked.status_code == 429
    assert "登录尝试次数过多" in locked.content.decode()


def test_user_without_department_can_log_in_and_is_told_to_ask(login, org):
    response = login(org.users["nodept"]).get("/")
    assert response.status_code == 200
    assert "请联系管理员为您设置所属部门" in response.content.decode()
    assert "请联系管理员" not in login(org.users["cs_staff"]).get("/").content.decode()


def test_department_cannot_be_its_own_ancestor(org):
    company, engineering = org.depts["company"], org.depts["engineering"]
    engineering.parent = engineering
    with pytest.raises(ValidationError, match="不能以自己为上级"):
        engineering.full_clean()
    company.parent = engineering
    with pytest.raises(ValidationError, match="形成循环"):
        company.full_clean()


def test_admin_refuses_a_cycle_with_a_message(login, org):
    admin = org.users.get("admin") or User.objects.get(username="admin")
    client = login(admin)
    company, engineering = org.depts["company"], org.depts["engineering"]
    url = reverse("departments:edit", args=[company.pk])
    data = {
        "name": company.name, "short_name": company.short_name, "code": company.code, "kind": company.kind,
        "parent": engineering.pk, "head": "", "liaisons": [], "supervising_leader": "", "phone": "",
        "sort_order": 0, "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "形成循环" in response.content.decode()
    company.refresh_from_db()
    assert company.parent_id is None


def test_descendants_include_site_offices(org):
    ids = org.depts["company"].descendant_ids()
    assert org.depts["sunshine"].pk in ids and org.depts["engineering"].pk in ids
    assert org.depts["company"].pk not in ids


def test_roles_structural_and_assigned(org):
    assert set(users_with_role(Role.COORDINATOR).values_list("username", flat=True)) == {"coordinator"}
    heads = set(users_with_role(Role.DEPARTMENT_HEAD).values_list("username", flat=True))
    assert {"eng_head", "cs_head", "site_head"} <= heads
    assert org.depts["engineering"].supervising_leader.username == "leader"
    assert org.depts["engineering"].liaisons.filter(username="eng_liaison").exists()


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (User.objects.count(), Department.objects.count(), Role.objects.count(), WorkDay.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (User.objects.count(), Department.objects.count(), Role.objects.count(), WorkDay.objects.count()) == counts
    assert User.objects.get(username="admin").check_password("demo1234")
    for username in ("coordinator", "leader", "eng_head", "eng_liaison", "cs_staff", "site_staff"):
        assert User.objects.get(username=username).check_password("demo1234")


def test_admin_user_list_searches_and_filters_by_department(login, org):
    client = login(User.objects.get(username="admin"))
    response = client.get(reverse("wagtailusers_users:index"), {"q": "E0601"})
    assert response.status_code == 200
    assert "张工" in response.content.decode()
    response = client.get(reverse("wagtailusers_users:index"), {"department": org.depts["service"].pk})
    html = response.content.decode()
    assert "刘洋" in html and "张工" not in html


def test_admin_dashboard_warns_when_next_year_is_missing(login, org, calendar_2026, settings):
    import datetime as dt
    from unittest import mock

    client = login(User.objects.get(username="admin"))
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 11, 21)):
        html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "2027" in html and "工作日历缺少年份" in html


def test_production_settings_refuse_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required in production" in result.stderr


def test_redis_url_switches_broker_and_cache():
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.Q_CLUSTER.get('redis'), s.Q_CLUSTER.get('orm'), s.CACHES['default']['BACKEND'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev"}
    without = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={
        k: v for k, v in env.items() if k != "REDIS_URL"}, timeout=120)
    with_redis = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env={**env, "REDIS_URL": "redis://127.0.0.1:6379/3"}, timeout=120)
    assert without.stdout.split() == ["None", "default", "django.core.cache.backends.db.DatabaseCache"]
    assert with_redis.stdout.split() == ["redis://127.0.0.1:6379/3", "None", "django.core.cache.backends.redis.RedisCache"]


def test_admin_imports_a_year_and_explains_an_unavailable_one(login, org):
    client = login(User.objects.get(username="admin"))
    url = reverse("workdays:import_year")
    assert client.get(url).status_code == 200
    response = client.post(url, {"year": "2027"})
    assert response.status_code == 200
    assert "没有 2027 年的数据" in response.content.decode()
    assert not WorkDay.objects.filter(date__year=2027).exists()
    response = client.post(url, {"year": "abc"})
    assert "请输入" in response.content.decode()
    response = client.post(url, {"year": "2026"})
    assert response.status_code == 302
    assert WorkDay.objects.filter(date__year=2026).count() == 365
    assert login(org.users["cs_staff"]).get(url).status_code in (302, 403)


def test_admin_day_edit_is_a_company_adjustment(login, org, calendar_2026):
    import datetime as dt

    client = login(User.objects.get(username="admin"))
    existing = WorkDay.objects.get(date=dt.date(2026, 7, 15))
    response = client.post(
        reverse("workdays:edit", args=[existing.pk]),
        {"date": "2026-07-15", "is_workday": "", "name": "台风停工", "note": "台风“海葵”"},
    )
    assert response.status_code == 302
    day = WorkDay.objects.get(date=dt.date(2026, 7, 15))
    assert (day.is_workday, day.source, day.updated_by.username) == (False, "company", "admin")
    # A day of an unloaded year can be added ahead of the official announcement.
    response = client.post(reverse("workdays:add"), {"date": "2027-01-01", "is_workday": "", "name": "元旦", "note": ""})
    assert response.status_code == 302
    # Adding a day that already exists is refused with a message, not a server error.
    response = client.post(reverse("workdays:add"), {"date": "2026-07-15", "is_workday": "on", "name": "", "note": ""})
    assert response.status_code == 200
    assert "已存在" in response.content.decode()


def test_an_overlong_username_is_a_failed_login_not_a_server_error(client, org):
    # django-axes records failures in a 255-character column (PostgreSQL enforces it).
    response = client.post(reverse("login"), {"username": "张" * 300, "password": "x"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
