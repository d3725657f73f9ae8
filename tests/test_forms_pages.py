"""Form pages: keys, numbering, matters, attachments, bad input, conditions, abuse, admin."""

from __future__ import annotations

import csv
import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wagtail.models import Page

import pytest
from openpyxl import load_workbook

from forms.keys import make_key
from forms.models import FormField, FormPage, Submission
from forms.testing import EXE_BYTES, PDF_BYTES, big_upload, make_form_page, png_bytes, token_for, upload
from matters.models import Attachment, Matter, MatterStatus, Urgency
from matters.services import change_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(org):
    return make_form_page()


def post(client, page, user, data, files=None, token=None):
    payload = {"form_token": token if token is not None else token_for(page, user), **data}
    if files:
        payload.update(files)
    return client.post(page.url, payload)


def valid(**extra):
    return {"biao_ti": "电梯停梯", "miao_shu": "3 号楼", "jin_ji_cheng_du": "high", **extra}


# -- keys ------------------------------------------------------------------------------------------


def test_chinese_labels_give_pinyin_keys():
    assert make_key("协作事项名称") == "xie_zuo_shi_xiang_ming_cheng"
    assert make_key("联系电话(手机)") == "lian_xi_dian_hua_shou_ji"
    assert make_key("2号楼") == "f_2_hao_lou"
    assert make_key("<script>") == "script"
    assert make_key("") == "field"


def test_key_survives_label_rename_and_explicit_keys_are_kept(page):
    field = page.form_fields.get(label="标题")
    assert field.clean_name == "biao_ti"
    field.label = "事项名称"
    field.clean_name = "changed"
    field.save()
    field.refresh_from_db()
    assert field.clean_name == "biao_ti"
    explicit = FormField.objects.create(page=page, label="联系电话", clean_name="phone", field_type="singleline")
    assert explicit.clean_name == "phone"


# -- submitting -----------------------------------------------------------------------------------


def test_submission_gets_reference_matter_and_landing_page(page, org, login):
    user = org.users["cs_staff"]
    client = login(user)
    response = post(client, page, user, valid(qi_wang_ri_qi="2026-12-01"), {"fu_jian": [upload()]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "CS-20" in html and "提交成功" in html
    submission = Submission.objects.get()
    matter = submission.matter
    assert re.fullmatch(r"CS-\d{4}-0001", matter.reference)
    assert matter.reference in html
    assert matter.title == "电梯停梯"
    assert matter.urgency == Urgency.HIGH
    assert matter.submitter == user and matter.submitter_department == org.depts["service"]
    assert matter.source_page_id == page.pk
    assert submission.form_data["qi_wang_ri_qi"] == "2026-12-01"
    assert submission.form_data["fu_jian"][0]["name"] == "a.pdf"
    assert Attachment.objects.get().field_key == "fu_jian"
    # Numbers continue without gaps.
    post(client, page, user, valid())
    assert Matter.objects.order_by("pk").last().reference.endswith("-0002")


def test_get_renders_a_token_that_submits(page, org, login):
    user = org.users["cs_staff"]
    client = login(user)
    html = client.get(page.url).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    response = client.post(page.url, {"form_token": token, **valid()})
    assert "提交成功" in response.content.decode()


def test_double_click_creates_one_submission(page, org, login):
    user = org.users["cs_staff"]
    client = login(user)
    token = token_for(page, user)
    first = post(client, page, user, valid(), token=token)
    second = post(client, page, user, valid(), token=token)
    assert Submission.objects.count() == 1
    reference = Matter.objects.get().reference
    assert reference in first.content.decode() and reference in second.content.decode()
    assert "已经提交过" not in first.content.decode() and "已经提交过" in second.content.decode()


def test_token_of_another_person_or_form_is_refused(page, org, login):
    other = make_form_page(title="另一表单", slug="other", prefix="QT")
    user = org.users["cs_staff"]
    client = login(user)
    for token in (token_for(page, org.users["eng_staff"]), token_for(other, user), "garbage", ""):
        response = post(client, page, user, valid(), token=token)
        assert response.status_code == 200
        assert "表单已过期或无效" in response.content.decode()
    assert not Submission.objects.exists()


def test_rate_limit_stops_with_a_clear_message(org, login):
    page = make_form_page(rate_limit_count=2, rate_limit_minutes=10)
    user = org.users["cs_staff"]
    client = login(user)
    post(client, page, user, valid())
    post(client, page, user, valid())
    response = post(client, page, user, valid(biao_ti="第三次"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "10 分钟内已提交 2 次" in html and "第三次" in html  # the input is kept
    assert Submission.objects.count() == 2
    # Another person is not limited.
    other = org.users["cs_staff2"]
    assert "提交成功" in post(login(other), page, other, valid()).content.decode()


def test_login_is_required(page, client):
    response = client.get(page.url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_person_without_department_is_told_to_ask_the_administrator(page, org, login):
    user = org.users["nodept"]
    response = post(login(user), page, user, valid())
    assert "尚未分配部门" in response.content.decode()
    assert not Submission.objects.exists()


# -- bad input -------------------------------------------------------------------------------------


def test_missing_required_and_invalid_date_come_back_with_messages_and_input(page, org, login):
    user = org.users["cs_staff"]
    response = post(login(user), page, user, {"miao_shu": "保留我", "jin_ji_cheng_du": "high", "qi_wang_ri_qi": "2026-13-45"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "请填写“标题”" in html
    assert "日期格式不对" in html
    assert "保留我" in html and 'value="2026-13-45"' in html
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "file, message",
    [
        (SimpleUploadedFile("virus.pdf", EXE_BYTES, "application/pdf"), "与扩展名不符"),
        (SimpleUploadedFile("run.exe", EXE_BYTES), "类型不允许"),
        (SimpleUploadedFile("empty.pdf", b""), "空文件"),
        (SimpleUploadedFile("fake.png", PDF_BYTES), "与扩展名不符"),
        (SimpleUploadedFile("note.txt", b"\x00\x01binary"), "无法识别"),
    ],
)
def test_forbidden_files_are_refused_by_content(page, org, login, file, message):
    user = org.users["cs_staff"]
    response = post(login(user), page, user, valid(), {"fu_jian": [file]})
    assert message in response.content.decode()
    assert not Submission.objects.exists() and not Attachment.objects.exists()


def test_too_large_and_too_many_files_are_refused(org, login):
    page = make_form_page(
        fields=[
            {"label": "标题", "field_type": "singleline"},
            {"label": "附件", "field_type": "attachments", "max_files": 2, "max_file_size_mb": 1, "required": False},
        ]
    )
    user = org.users["cs_staff"]
    client = login(user)
    response = post(client, page, user, {"biao_ti": "x"}, {"fu_jian": [big_upload(megabytes=2)]})
    assert "每个文件不能超过 1 MB" in response.content.decode()
    files = [upload(f"{i}.pdf") for i in range(3)]
    response = post(client, page, user, {"biao_ti": "x"}, {"fu_jian": files})
    assert "最多上传 2 个文件" in response.content.decode()
    response = post(client, page, user, {"biao_ti": "x"}, {"fu_jian": [upload("a.pdf"), upload("b.png", png_bytes())]})
    assert "提交成功" in response.content.decode()
    assert Attachment.objects.count() == 2


def test_text_files_pass_when_they_are_text(page, org, login):
    user = org.users["cs_staff"]
    response = post(login(user), page, user, valid(), {"fu_jian": [upload("说明.txt", "中文说明".encode(), "text/plain")]})
    assert "提交成功" in response.content.decode()
    assert Attachment.objects.get().content_type == "text/plain"


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_is_stored_as_text_and_escaped_everywhere(page, org, login, admin_client):
    user = org.users["cs_staff"]
    client = login(user)
    post(client, page, user, valid(biao_ti=HOSTILE, miao_shu="=HYPERLINK(\"http://x\")"))
    submission = Submission.objects.get()
    assert submission.form_data["biao_ti"] == HOSTILE
    pages = [
        client.get(reverse("matters:mine")),
        client.get(submission.matter.get_absolute_url()),
    ]
    admin_client.force_login(org.users["admin"])
    pages += [
        admin_client.get(reverse("wagtailforms:list_submissions", args=[page.pk])),
        admin_client.get(reverse("forms_admin:submission", args=[submission.pk])),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html
    csv_text = (
        b"".join(admin_client.get(reverse("wagtailforms:list_submissions", args=[page.pk]) + "?export=csv").streaming_content)
        .decode("utf-8-sig")
    )
    row = next(r for r in csv.DictReader(io.StringIO(csv_text)) if r["编号"])
    assert row["标题"] == HOSTILE  # plain text in the file, not markup
    assert row["描述"].startswith("'=")  # no formula


def test_hidden_conditional_field_is_ignored_and_shown_one_is_required(org, login):
    page = make_form_page(
        fields=[
            {"label": "标题", "field_type": "singleline"},
            {"label": "是否投诉", "field_type": "radio", "choices": "是\n否"},
            {
                "label": "投诉单号",
                "field_type": "singleline",
                "condition_field": "shi_fou_tou_su",
                "condition_value": "是",
            },
            {"label": "投诉日期", "field_type": "date", "condition_field": "tou_su_dan_hao", "condition_value": ""},
        ]
    )
    user = org.users["cs_staff"]
    client = login(user)
    # Hidden: the submitted value (even an invalid one) is ignored.
    response = post(client, page, user, {"biao_ti": "a", "shi_fou_tou_su": "否", "tou_su_dan_hao": "X1", "tou_su_ri_qi": "bad"})
    assert "提交成功" in response.content.decode()
    assert "tou_su_dan_hao" not in Submission.objects.get().form_data
    # Shown: required, and the chained field appears once it has a value.
    response = post(client, page, user, {"biao_ti": "b", "shi_fou_tou_su": "是"})
    assert "请填写“投诉单号”" in response.content.decode()
    response = post(client, page, user, {"biao_ti": "b", "shi_fou_tou_su": "是", "tou_su_dan_hao": "TS-1"})
    assert "请填写“投诉日期”" in response.content.decode()
    post(client, page, user, {"biao_ti": "b", "shi_fou_tou_su": "是", "tou_su_dan_hao": "TS-1", "tou_su_ri_qi": "2026-11-02"})
    assert Submission.objects.order_by("pk").last().form_data["tou_su_dan_hao"] == "TS-1"


def test_department_person_and_datetime_fields(org, login):
    page = make_form_page(
        fields=[
            {"label": "标题", "field_type": "singleline"},
            {"label": "牵头部门", "field_type": "department"},
            {"label": "配合部门", "field_type": "departments"},
            {"label": "对接人", "field_type": "person"},
            {"label": "发生时间", "field_type": "datetime"},
            {"label": "说明", "field_type": "section", "required": False},
        ]
    )
    user = org.users["cs_staff"]
    client = login(user)
    bad = post(client, page, user, {"biao_ti": "x", "qian_tou_bu_men": "999999", "pei_he_bu_men": ["abc"], "dui_jie_ren": "-1", "fa_sheng_shi_jian": "昨天"})
    html = bad.content.decode()
    assert html.count("选项无效") >= 3 and "日期时间格式不对" in html
    d = org.depts
    post(
        client,
        page,
        user,
        {
            "biao_ti": "x",
            "qian_tou_bu_men": d["engineering"].pk,
            "pei_he_bu_men": [d["security"].pk, d["finance"].pk],
            "dui_jie_ren": org.users["eng_liaison"].pk,
            "fa_sheng_shi_jian": "2026-11-20T09:30",
        },
    )
    data = Submission.objects.get().form_data
    assert data["qian_tou_bu_men"] == {"id": d["engineering"].pk, "name": "工程部"}
    assert {x["name"] for x in data["pei_he_bu_men"]} == {"秩序部", "财务部"}
    assert data["dui_jie_ren"]["name"] == "马超"
    assert data["fa_sheng_shi_jian"].startswith("2026-11-20T09:30")
    assert "shuo_ming" not in data
    rows = Submission.objects.get().display_rows()
    assert {"label": "发生时间", "type": "datetime", "value": "2026-11-20 09:30", "files": []} in rows


# -- 我的提交 and the matter page --------------------------------------------------------------------


def test_my_submissions_and_detail_show_answers_and_files(page, org, login):
    user = org.users["cs_staff"]
    client = login(user)
    post(client, page, user, valid(), {"fu_jian": [upload("现场.png", png_bytes(), "image/png")]})
    matter = Matter.objects.get()
    html = client.get(reverse("matters:mine")).content.decode()
    assert matter.reference in html and "已提交" in html
    html = client.get(matter.get_absolute_url()).content.decode()
    assert "填写内容" in html and "电梯停梯" in html and "现场.png" in html and "办理记录" in html
    attachment = Attachment.objects.get()
    assert reverse("matters:attachment", args=[attachment.pk]) in html
    # Home panel and navigation.
    home = client.get("/").content.decode()
    assert matter.reference in home
    assert "我的提交" in home and "/forms/" in home


def test_withdraw_before_acceptance_only(page, org, login):
    user = org.users["cs_staff"]
    client = login(user)
    post(client, page, user, valid())
    matter = Matter.objects.get()
    change_status(matter, org.users["coordinator"], MatterStatus.ACCEPTED)
    html = client.get(matter.get_absolute_url()).content.decode()
    assert "撤回此事项" not in html
    response = client.post(reverse("matters:withdraw", args=[matter.pk]), follow=True)
    assert "受理后不能撤回" in response.content.decode()


# -- editors ---------------------------------------------------------------------------------------


def test_editor_adds_a_field_and_the_next_submission_has_it(page, org, login):
    FormField.objects.create(page=page, label="楼栋", field_type="singleline", sort_order=99)
    page = FormPage.objects.get(pk=page.pk)
    user = org.users["cs_staff"]
    client = login(user)
    assert 'name="lou_dong"' in client.get(page.url).content.decode()
    post(client, page, user, valid(lou_dong="3 号楼"))
    assert Submission.objects.get().form_data["lou_dong"] == "3 号楼"


def _edit_data(page, extra_rows=(), first_key=None, **overrides):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    fields = list(page.form_fields.all())
    blank = {"required": True, "max_files": 5, "max_file_size_mb": 10, "allowed_file_types": "pdf", "choices": "",
             "default_value": "", "help_text": "", "condition_field": "", "condition_value": "", "clean_name": ""}
    rows = [
        {
            **blank,
            "id": f.pk,
            "label": f.label,
            "clean_name": f.clean_name,
            "field_type": f.field_type,
            "required": f.required,
            "allowed_file_types": f.allowed_file_types,
            "ORDER": i,
        }
        for i, f in enumerate(fields)
    ]
    if first_key:
        rows[0]["clean_name"] = first_key
    rows += [{**blank, "ORDER": len(rows) + i, **row} for i, row in enumerate(extra_rows)]
    data = {
        "title": page.title,
        "slug": page.slug,
        "intro": rich_text(""),
        "thank_you_text": rich_text(""),
        "reference_prefix": page.reference_prefix,
        "reference_pattern": page.reference_pattern,
        "title_field": "",
        "rate_limit_count": 10,
        "rate_limit_minutes": 60,
        "to_address": "",
        "from_address": "",
        "subject": "",
        **overrides,
        "form_fields": inline_formset(rows, initial=len(fields)),
    }
    return nested_form_data(data)


def test_admin_edit_view_rejects_bad_keys_and_conditions(page, org, admin_client):
    data = _edit_data(
        page,
        [
            {"label": "新字段", "clean_name": "Bad Key", "field_type": "singleline"},
            {"label": "条件", "field_type": "singleline", "condition_field": "no_such_key"},
        ],
        first_key="renamed",
        reference_pattern="{prefix}-{nope}",
    )
    admin_client.force_login(org.users["admin"])
    response = admin_client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "字段键保存后不能修改" in html
    assert "字段键只能用小写字母" in html
    assert "没有字段键为“no_such_key”的字段" in html
    assert "不认识的占位符" in html


def test_editor_adds_a_field_in_the_page_editor_and_next_submission_has_it(page, org, admin_client, login):
    data = _edit_data(page, [{"label": "所在楼栋", "field_type": "singleline", "required": True}], **{"action-publish": "1"})
    admin_client.force_login(org.users["admin"])
    response = admin_client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)
    assert response.status_code == 302, response.content.decode()[:500]
    page = FormPage.objects.get(pk=page.pk)
    assert page.form_fields.filter(clean_name="suo_zai_lou_dong").exists()
    user = org.users["cs_staff"]
    client = login(user)
    missing = post(client, page, user, valid())
    assert "请填写“所在楼栋”" in missing.content.decode()
    post(client, page, user, valid(suo_zai_lou_dong="5 号楼"))
    assert Submission.objects.get().form_data["suo_zai_lou_dong"] == "5 号楼"


def test_copying_a_form_page_makes_a_new_form_with_the_same_fields(page, org):
    copy = page.copy(update_attrs={"title": "复制的表单", "slug": "copied"})
    copy = FormPage.objects.get(pk=copy.pk)
    assert [f.clean_name for f in copy.form_fields.all()] == [f.clean_name for f in page.form_fields.all()]
    assert copy.get_submissions().count() == 0


def _many_submissions(page, user, n):
    from forms.demo import submit

    for i in range(n):
        submit(page, user, {"biao_ti": f"第{i}条", "jin_ji_cheng_du": "low"})


def test_admin_list_has_filters_links_and_constant_queries(page, org, admin_client, django_assert_max_num_queries):
    admin_client.force_login(org.users["admin"])
    url = reverse("wagtailforms:list_submissions", args=[page.pk])
    _many_submissions(page, org.users["cs_staff"], 2)
    admin_client.get(url)
    with django_assert_max_num_queries(200) as baseline:
        admin_client.get(url)
    count = len(baseline.captured_queries)
    _many_submissions(page, org.users["eng_staff"], 12)
    with django_assert_max_num_queries(count):
        html = admin_client.get(url).content.decode()
    assert "CS-" in html and reverse("forms_admin:submission", args=[Submission.objects.first().pk]) in html
    for label in ("状态", "提交部门", "紧急程度", "提交日期"):
        assert label in html
    filtered = admin_client.get(url + f"?department={org.depts['engineering'].pk}").content.decode()
    assert len(set(re.findall(r"第\d+条", filtered))) == 12
    urgent = admin_client.get(url + "?urgency=high").content.decode()
    assert "第0条" not in urgent
    assert admin_client.get(url + "?status=submitted&date_from=2026-01-01&date_to=2099-01-01").status_code == 200
    assert admin_client.get(url + "?status=<bad>&department=abc").status_code == 200


def test_exports_have_reference_and_labels_as_headers(page, org, admin_client):
    _many_submissions(page, org.users["cs_staff"], 2)
    admin_client.force_login(org.users["admin"])
    url = reverse("wagtailforms:list_submissions", args=[page.pk])
    text = b"".join(admin_client.get(url + "?export=csv").streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:5] == ["编号", "提交时间", "提交人", "提交部门", "状态"]
    assert "标题" in header and header.count("紧急程度") == 1 and "附件" in header
    response = admin_client.get(url + "?export=xlsx")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "编号" and rows[1][0].startswith("CS-")
    assert len(rows) == 3


def test_submission_detail_in_admin_is_permission_checked(page, org, client, admin_client):
    _many_submissions(page, org.users["cs_staff"], 1)
    submission = Submission.objects.get()
    url = reverse("forms_admin:submission", args=[submission.pk])
    admin_client.force_login(org.users["admin"])
    html = admin_client.get(url).content.decode()
    assert submission.matter.reference in html and "第0条" in html and "办理记录" in html
    client.force_login(org.users["coordinator"])  # staff, but no page permission
    assert client.get(url).status_code in (302, 403)


def test_seed_forms_is_idempotent(org):
    from forms.demo import seed_forms

    seed_forms(lambda *a: None)
    counts = (FormPage.objects.count(), Submission.objects.count(), FormField.objects.count(), Attachment.objects.count())
    seed_forms(lambda *a: None)
    assert counts == (FormPage.objects.count(), Submission.objects.count(), FormField.objects.count(), Attachment.objects.count())
    titles = set(FormPage.objects.values_list("title", flat=True))
    assert titles == {"跨部门协作需求单", "问题反馈单", "工作联系单", "故障转呈单"}
    zc = FormPage.objects.get(title="故障转呈单")
    urgency = zc.form_fields.get(field_type="urgency")
    assert urgency.label == "紧急程度"
    assert Submission.objects.count() == 4
    assert Attachment.objects.count() == 1
    assert Page.objects.filter(slug="forms").exists()


def test_preview_of_form_and_landing_page_renders(page, org, admin_client):
    from django.test import RequestFactory

    admin_client.force_login(org.users["admin"])
    original = RequestFactory().get("/", HTTP_COOKIE=f"sessionid={admin_client.cookies['sessionid'].value}")
    for mode in ("form", "landing"):
        response = page.make_preview_request(original, preview_mode=mode)
        assert response.status_code == 200
    unsaved = FormPage(title="未保存", slug="unsaved", reference_prefix="WB")
    unsaved.form_fields = [FormField(label="新标题", field_type="singleline")]
    unsaved.path, unsaved.depth, unsaved.url_path = page.path + "0001", page.depth + 1, page.url_path + "unsaved/"
    response = unsaved.make_preview_request(original, preview_mode="form")
    assert 'name="xin_biao_ti"' in response.render().content.decode()
