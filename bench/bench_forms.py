"""Form submission cost: our FormPage (numbered matter, history, audit log, one-time token,
rate-limit check) vs. a plain ``wagtail.contrib.forms`` page with the same fields, same run,
same templates, through the full request cycle (middleware, routing, rendering)."""

import os
import sys
import time

from harness import emit, fresh_postgres_url, setup_django

ROUNDS = 60


def make_plain_model():
    """A plain Wagtail form page, defined here so the portal does not offer it to editors; its
    tables are created directly in the scratch database."""
    from django.db import connection, models

    from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField

    from modelcluster.fields import ParentalKey

    class BenchPlainFormField(AbstractFormField):
        page = ParentalKey("forms.BenchPlainFormPage", on_delete=models.CASCADE, related_name="form_fields")

        class Meta:
            app_label = "forms"

    class BenchPlainFormPage(AbstractEmailForm):
        template = "forms/form_page.html"
        landing_page_template = "forms/form_page_landing.html"

        class Meta:
            app_label = "forms"

    with connection.schema_editor() as editor:
        editor.create_model(BenchPlainFormPage)
        editor.create_model(BenchPlainFormField)
    return BenchPlainFormPage, BenchPlainFormField


def main():
    url = None
    if os.environ.get("BENCH_FORMS_PG", "1") == "1":
        url = fresh_postgres_url("bench_forms")
    setup_django(database_url=url)
    from django.test import Client

    from forms.models import Submission
    from forms.testing import forms_index, make_form_page, token_for
    from portal.demo import seed_organisation
    from portal.models import Department, User

    seed_organisation(log=lambda *a: None)
    Plain, PlainField = make_plain_model()
    ours = make_form_page(
        title="我们的表单",
        slug="ours",
        prefix="BM",
        # The rate-limit query runs as in production, with a limit this run never reaches.
        rate_limit_count=1000,
        fields=[
            {"label": "标题", "field_type": "singleline"},
            {"label": "描述", "field_type": "multiline"},
            {"label": "日期", "field_type": "date"},
            {"label": "紧急程度", "field_type": "urgency"},
            {"label": "部门", "field_type": "department"},
        ],
    )
    depts = list(Department.objects.order_by("pk"))
    plain = Plain(title="原生表单", slug="plain")
    plain.form_fields = [
        PlainField(sort_order=0, label="biaoti", field_type="singleline", required=True),
        PlainField(sort_order=1, label="miaoshu", field_type="multiline", required=True),
        PlainField(sort_order=2, label="riqi", field_type="date", required=True),
        PlainField(sort_order=3, label="jinji", field_type="radio", choices="high,medium,low", required=True),
        PlainField(sort_order=4, label="bumen", field_type="dropdown", choices=",".join(d.name for d in depts)),
    ]
    forms_index().add_child(instance=plain)

    user = User.objects.get(username="cs_staff")
    client = Client()
    client.force_login(user)
    text = "三号楼电梯停梯，影响 120 户业主出行。" * 5

    def submit_ours(i):
        r = client.post(
            ours.url,
            {
                "form_token": token_for(ours, user),
                "biao_ti": f"事项 {i}",
                "miao_shu": text,
                "ri_qi": "2026-12-01",
                "jin_ji_cheng_du": "high",
                "bu_men": depts[i % len(depts)].pk,
            },
        )
        assert r.status_code == 200 and b"BM-" in r.content, r.content[:300]

    def submit_plain(i):
        r = client.post(
            plain.url,
            {
                "biaoti": f"事项 {i}",
                "miaoshu": text,
                "riqi": "2026-12-01",
                "jinji": "high",
                "bumen": depts[i % len(depts)].name,
            },
        )
        assert r.status_code == 200 and "提交成功" in r.content.decode(), r.content[:300]

    # Warm up both paths (template loading, content types, site lookup).
    for i in range(3):
        submit_ours(i)
        submit_plain(i)
    ours_times, plain_times = [], []
    for i in range(ROUNDS):  # interleaved so that machine noise hits both alike
        start = time.perf_counter()
        submit_ours(i)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        submit_plain(i)
        plain_times.append(time.perf_counter() - start)
    ours_times.sort()
    plain_times.sort()
    median = lambda xs: xs[len(xs) // 2]  # noqa: E731
    assert Submission.objects.filter(page=ours).count() == ROUNDS + 3
    engine = "postgresql" if url else "sqlite"
    emit(
        f"forms.submit_vs_plain_wagtail_form.{engine}",
        median(ours_times) * 1000,
        "ms",
        median(plain_times) * 1000,
        rounds=ROUNDS,
    )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
