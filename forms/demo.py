"""Demo content: the forms index, the four forms of the seeds and a few submissions.

Idempotent: pages are looked up by slug, submissions are added only to a form without any.
"""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from home.models import HomePage
from portal.models import Department, User

from .fields import make_token
from .models import FormField, FormIndexPage, FormPage, Submission

# (label, type, required, extra options)
F = dict

FORMS = [
    {
        "slug": "xiezuo-xuqiu",
        "title": "跨部门协作需求单",
        "prefix": "XQ",
        "intro": "<p>需要其他部门配合完成的工作，请填写本单。配合部门应在 <b>1 个工作日</b> 内答复。需求单编号由系统自动生成。</p>",
        "title_field": "xie_zuo_shi_xiang_ming_cheng",
        "fields": [
            F(label="牵头部门", field_type="department"),
            F(label="对接人", field_type="person"),
            F(label="联系电话", field_type="singleline", help_text="手机或座机，例如 13800138000"),
            F(label="协作事项名称", field_type="singleline"),
            F(label="协作目标", field_type="multiline"),
            F(label="协作背景与必要性", field_type="multiline"),
            F(label="所需配合部门", field_type="departments"),
            F(label="所需资源", field_type="multiline", required=False, help_text="人员、设备、资金等"),
            F(label="时间节点", field_type="date"),
            F(label="各部门职责", field_type="multiline", help_text="每个配合部门一行，例如：工程部：负责管线改造"),
            F(label="附件", field_type="attachments", required=False),
        ],
    },
    {
        "slug": "wenti-fankui",
        "title": "问题反馈单",
        "prefix": "FK",
        "intro": "<p>跨部门协作中遇到的问题请在此提报。协调岗在 <b>1 个工作日</b> 内审核分派。</p>",
        "title_field": "wen_ti_biao_ti",
        "fields": [
            F(label="问题标题", field_type="singleline"),
            F(label="问题描述", field_type="section", required=False, help_text="请写清背景、现状和影响范围。"),
            F(label="背景", field_type="multiline"),
            F(label="现状", field_type="multiline"),
            F(label="影响范围", field_type="multiline"),
            F(label="紧急程度", field_type="urgency"),
            F(label="期望解决时间", field_type="date"),
            F(label="是否已造成业主投诉", field_type="radio", choices="是\n否", default_value="否"),
            F(
                label="投诉单号",
                field_type="singleline",
                help_text="已造成投诉时必填",
                condition_field="shi_fou_yi_zao_cheng_ye_zhu_tou_su",
                condition_value="是",
            ),
            F(
                label="附件",
                field_type="attachments",
                required=False,
                help_text="数据、截图等，最多 5 个，每个不超过 10 MB",
            ),
        ],
    },
    {
        "slug": "gongzuo-lianxi",
        "title": "工作联系单",
        "prefix": "LX",
        "intro": "<p>向其他部门请求协助或了解情况。接收部门应在所写时间节点前答复。</p>",
        "title_field": "lian_xi_shi_xiang",
        "fields": [
            F(label="接收部门", field_type="department"),
            F(label="联系事项", field_type="singleline"),
            F(label="工作内容", field_type="multiline"),
            F(label="要求", field_type="multiline"),
            F(label="时间节点", field_type="datetime", help_text="希望对方在此时间前答复"),
            F(label="附件", field_type="attachments", required=False),
        ],
    },
    {
        "slug": "guzhang-zhuancheng",
        "title": "故障转呈单",
        "prefix": "ZC",
        "intro": "<p>管理处无法自行解决的故障，转呈总部相关部门。紧急故障请同时电话报告。</p>",
        "title_field": "gu_zhang_biao_ti",
        "fields": [
            F(label="故障标题", field_type="singleline"),
            F(label="所在管理处", field_type="department"),
            F(label="故障位置", field_type="singleline", help_text="楼栋、楼层、设备编号"),
            F(label="发生时间", field_type="datetime"),
            F(label="紧急程度", field_type="urgency"),
            F(label="故障描述", field_type="multiline"),
            F(label="已采取措施", field_type="multiline"),
            F(label="需要支援的部门", field_type="departments", required=False),
            F(
                label="现场照片",
                field_type="attachments",
                required=False,
                allowed_file_types="jpg,png,pdf",
                max_files=5,
                max_file_size_mb=10,
            ),
        ],
    },
]


def _png() -> bytes:
    """A 1x1 PNG, enough to pass the content check."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def ensure_index(log) -> FormIndexPage:
    index = FormIndexPage.objects.filter(slug="forms").first()
    if index:
        return index
    home = HomePage.objects.first()
    index = FormIndexPage(title="表单", slug="forms", intro="<p>选择要填写的表单。提交后可在“我的提交”中查看进度。</p>")
    home.add_child(instance=index)
    index.save_revision().publish()
    log("  表单目录：/forms/")
    return index


def ensure_form(index: FormIndexPage, spec: dict, log) -> FormPage:
    page = FormPage.objects.filter(slug=spec["slug"]).first()
    if page:
        return page
    page = FormPage(
        title=spec["title"],
        slug=spec["slug"],
        intro=spec["intro"],
        thank_you_text="<p>已收到，相关部门将按时限处理。您可以在“我的提交”中查看进度、补充材料。</p>",
        reference_prefix=spec["prefix"],
        title_field=spec["title_field"],
    )
    page.form_fields = [FormField(sort_order=i, **{"required": True, **f}) for i, f in enumerate(spec["fields"])]
    index.add_child(instance=page)
    page.save_revision().publish()
    log(f"  表单：{spec['title']}（编号前缀 {spec['prefix']}）")
    return page


def submit(page: FormPage, user, values: dict, files: dict | None = None) -> Submission:
    """Submit through the same form class and processing as the web page."""
    data = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        else:
            data[key] = str(value)
    data["form_token"] = make_token(page.pk, user.pk)
    form = page.get_form(data, MultiValueDict(files or {}), page=page, user=user)
    if not form.is_valid():
        raise ValueError(f"demo submission invalid: {form.errors.as_json()}")
    return page.process_form_submission(form)


def seed_submissions(pages: dict[str, FormPage], log) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=["cs_staff", "site_staff", "eng_liaison", "cs_liaison"])}
    depts = {d.code: d for d in Department.objects.all()}
    if len(users) < 4 or not depts:
        return
    today = timezone.localdate()
    photo = lambda: {"xian_chang_zhao_pian": [SimpleUploadedFile("现场照片.png", _png(), "image/png")]}  # noqa: E731
    plans = [
        (
            "xiezuo-xuqiu",
            "cs_liaison",
            {
                "qian_tou_bu_men": depts["service"].pk,
                "dui_jie_ren": users["cs_liaison"].pk,
                "lian_xi_dian_hua": "13800000013",
                "xie_zuo_shi_xiang_ming_cheng": "阳光花园业主开放日活动",
                "xie_zuo_mu_biao": "组织业主开放日，展示设施设备维护成果。",
                "xie_zuo_bei_jing_yu_bi_yao_xing": "年度满意度调查中业主对设备维护了解不足。",
                "suo_xu_pei_he_bu_men": [depts["engineering"].pk, depts["security"].pk],
                "suo_xu_zi_yuan": "讲解人员 2 名，展板 4 块",
                "shi_jian_jie_dian": (today + timedelta(days=14)).isoformat(),
                "ge_bu_men_zhi_ze": "工程部：设备讲解\n秩序部：现场秩序",
            },
            None,
        ),
        (
            "wenti-fankui",
            "cs_staff",
            {
                "wen_ti_biao_ti": "3 号楼电梯频繁停梯",
                "bei_jing": "3 号楼 2 号电梯本月已停梯 4 次。",
                "xian_zhuang": "维保单位已到场两次，未根治。",
                "ying_xiang_fan_wei": "3 号楼 120 户业主出行。",
                "jin_ji_cheng_du": "high",
                "qi_wang_jie_jue_shi_jian": (today + timedelta(days=3)).isoformat(),
                "shi_fou_yi_zao_cheng_ye_zhu_tou_su": "是",
                "tou_su_dan_hao": "TS-20261101-07",
            },
            None,
        ),
        (
            "gongzuo-lianxi",
            "eng_liaison",
            {
                "jie_shou_bu_men": depts["finance"].pk,
                "lian_xi_shi_xiang": "水泵更换费用报销口径",
                "gong_zuo_nei_rong": "请确认水泵更换费用的报销科目与所需单据。",
                "yao_qiu": "书面答复，附所需单据清单。",
                "shi_jian_jie_dian": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT17:00"),
            },
            None,
        ),
        (
            "guzhang-zhuancheng",
            "site_staff",
            {
                "gu_zhang_biao_ti": "地下车库排水泵故障",
                "suo_zai_guan_li_chu": depts["sunshine"].pk,
                "gu_zhang_wei_zhi": "地下车库 B1 集水井 2 号泵",
                "fa_sheng_shi_jian": (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
                "jin_ji_cheng_du": "high",
                "gu_zhang_miao_shu": "排水泵不启动，集水井水位上涨。",
                "yi_cai_qu_cuo_shi": "已启用备用泵，安排人员值守。",
                "xu_yao_zhi_yuan_de_bu_men": [depts["engineering"].pk],
            },
            photo,
        ),
    ]
    for slug, username, values, files in plans:
        page = pages[slug]
        if Submission.objects.filter(page=page).exists():
            continue
        submission = submit(page, users[username], values, files() if files else None)
        log(f"  示例提交：{submission.matter.reference} {submission.matter.title}")


def seed_forms(log=print) -> None:
    index = ensure_index(log)
    pages = {spec["slug"]: ensure_form(index, spec, log) for spec in FORMS}
    seed_submissions(pages, log)
