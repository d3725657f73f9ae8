"""Random payloads against the submit endpoint never cause a server error."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.models import Submission
from forms.testing import make_form_page, token_for

pytestmark = pytest.mark.django_db

FIELDS = [
    {"label": "标题", "field_type": "singleline"},
    {"label": "描述", "field_type": "multiline", "required": False},
    {"label": "邮箱", "field_type": "email", "required": False},
    {"label": "数量", "field_type": "number", "required": False},
    {"label": "网址", "field_type": "url", "required": False},
    {"label": "同意", "field_type": "checkbox", "required": False},
    {"label": "类别", "field_type": "dropdown", "choices": "甲\n乙", "required": False},
    {"label": "多选", "field_type": "checkboxes", "choices": "A,B,C", "required": False},
    {"label": "日期", "field_type": "date", "required": False},
    {"label": "时间", "field_type": "datetime", "required": False},
    {"label": "部门", "field_type": "department", "required": False},
    {"label": "部门们", "field_type": "departments", "required": False},
    {"label": "人员", "field_type": "person", "required": False},
    {"label": "紧急程度", "field_type": "urgency"},
    {"label": "条件", "field_type": "singleline", "condition_field": "lei_bie", "condition_value": "乙"},
    {"label": "附件", "field_type": "attachments", "required": False, "max_file_size_mb": 1},
]
KEYS = ["biao_ti", "miao_shu", "you_xiang", "shu_liang", "wang_zhi", "tong_yi", "lei_bie", "duo_xuan", "ri_qi",
        "shi_jian", "bu_men", "bu_men_men", "ren_yuan", "jin_ji_cheng_du", "tiao_jian", "form_token", "zz_unknown"]

text = st.text(max_size=300) | st.sampled_from(
    ["", "<script>alert(1)</script>", "2026-02-30", "2026-11-20T09:30", "1e999", "NaN", "-1", "0", "999999999999",
     "high", "乙", "甲", "A", "on", "\x00", "' OR 1=1 --", "{{ 7*7 }}", "%s%n"]
)
value = text | st.lists(text, max_size=4)
uploads = st.lists(
    st.tuples(st.sampled_from(["a.pdf", "b.png", "c.exe", "d.txt", "", "../../e.pdf", "f"]), st.binary(max_size=600)),
    max_size=3,
)


@pytest.fixture
def form_page(org):
    return make_form_page(fields=FIELDS, rate_limit_count=0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.dictionaries(st.sampled_from(KEYS), value, max_size=12), files=uploads, good_token=st.booleans())
def test_random_payloads_never_cause_a_server_error(form_page, org, client, payload, files, good_token):
    user = org.users["cs_staff"]
    client.force_login(user)
    data = dict(payload)
    if good_token:
        data["form_token"] = token_for(form_page, user)
    if files:
        data["fu_jian"] = [SimpleUploadedFile(name or "x", content) for name, content in files]
    before = Submission.objects.count()
    response = client.post(form_page.url, data)  # the test client re-raises any server error
    assert response.status_code in (200, 429)
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    if Submission.objects.count() > before:
        assert "提交成功" in html
