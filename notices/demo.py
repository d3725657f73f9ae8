"""Demo notices (idempotent): a pinned one, one to confirm by a deadline, one for 工程部 only,
one revised with re-confirmation, and a 通报 for department heads, with receipts and views."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wagtail.models import Page

from portal.models import Department, Role, User

from .models import NoticeCategory, NoticeIndexPage, NoticePage, NoticeReceipt, NoticeView

CATEGORIES = [("通知", "tag-blue", 10), ("通报", "tag-amber", 20), ("制度", "tag-green", 30), ("公告", "tag-red", 40)]


def _paragraph(*texts):
    return [{"type": "paragraph", "value": "".join(f"<p>{t}</p>" for t in texts)}]


def ensure_categories() -> dict[str, NoticeCategory]:
    result = {}
    for name, colour, order in CATEGORIES:
        result[name], _ = NoticeCategory.objects.get_or_create(name=name, defaults={"colour": colour, "sort_order": order})
    return result


def ensure_index() -> NoticeIndexPage:
    index = NoticeIndexPage.objects.first()
    if index is None:
        home = Page.objects.get(depth=2)
        index = home.add_child(instance=NoticeIndexPage(title="通告栏", slug="notices", intro="公司及各部门发布的内部通告。"))
        index.save_revision().publish()
    return index


def _publish(index, admin, **fields) -> NoticePage | None:
    departments = fields.pop("departments", [])
    roles = fields.pop("roles", [])
    if NoticePage.objects.filter(slug=fields["slug"]).exists():
        return None
    notice = NoticePage(**fields)
    notice.audience_everyone = not departments and not roles
    index.add_child(instance=notice)
    notice.audience_departments.set(departments)
    notice.audience_roles.set(roles)
    notice.save_revision(user=admin).publish(user=admin)
    notice.refresh_from_db()
    return notice


def _read(notice, usernames, *, confirm: bool, start: dt.datetime):
    users = User.objects.filter(username__in=usernames)
    views = [NoticeView(notice=notice, user=u, version=notice.version, viewed_at=start) for u in users]
    NoticeView.objects.bulk_create(views, ignore_conflicts=True)
    if confirm:
        receipts = [
            NoticeReceipt(
                notice=notice,
                user=u,
                version=notice.version,
                revision_id=notice.version_revision_id,
                confirmed_at=start + dt.timedelta(minutes=7 * i + 3),
                user_agent="演示数据",
            )
            for i, u in enumerate(users)
        ]
        NoticeReceipt.objects.bulk_create(receipts, ignore_conflicts=True)


def seed_notices(log=print) -> None:
    categories = ensure_categories()
    index = ensure_index()
    admin = User.objects.filter(username="admin").first()
    depts = {d.code: d for d in Department.objects.all()}
    now = timezone.now()
    created = 0

    pinned = _publish(
        index,
        admin,
        title="关于元旦假期值班安排的通知",
        slug="holiday-duty-2027",
        issuing_department=depts["hr"],
        category=categories["通知"],
        summary="元旦期间各部门、各管理处值班人员及联系方式。",
        body=_paragraph(
            "各部门、各管理处：",
            "根据公司安排，元旦假期（1月1日至1月3日）实行 24 小时值班制度。各部门负责人为第一责任人，"
            "请于 12 月 28 日前将值班表报行政人事部。",
        ),
        pinned_until=now + dt.timedelta(days=40),
    )
    if pinned:
        created += 1
        _read(pinned, ["cs_staff", "eng_staff", "hr_staff", "fin_staff"], confirm=False, start=now - dt.timedelta(hours=5))

    fire = _publish(
        index,
        admin,
        title="关于开展冬季消防安全大检查的通知",
        slug="winter-fire-inspection",
        issuing_department=depts["quality"],
        category=categories["通知"],
        summary="各部门、各管理处于截止前完成自查并确认已阅。",
        body=[
            {"type": "heading", "value": "一、检查范围"},
            *_paragraph("公司各办公区域、设备机房、各管理处公共区域及地下车库。"),
            {"type": "heading", "value": "二、时间安排"},
            {
                "type": "table",
                "value": {
                    "data": [["阶段", "时间", "负责部门"], ["自查", "本周内", "各部门"], ["抽查", "下周", "品质管理部"]],
                    "first_row_is_table_header": True,
                    "first_col_is_header": False,
                },
            },
            {"type": "heading", "value": "三、检查重点"},
            *_paragraph("灭火器、消火栓和应急照明是否完好；疏散通道是否畅通；消防维保记录是否齐全。"),
            *_paragraph("请全体员工阅读后点击“已阅”确认。"),
        ],
        requires_confirmation=True,
        confirm_deadline=now + dt.timedelta(days=3),
    )
    if fire:
        created += 1
        _read(
            fire,
            ["gm", "leader", "coordinator", "general_head", "qa_head", "qa_staff", "eng_head", "eng_liaison",
             "cs_head", "cs_liaison", "sec_head", "site_head"],
            confirm=True,
            start=now - dt.timedelta(hours=20),
        )
        _read(fire, ["cs_staff2", "env_head", "hr_staff"], confirm=False, start=now - dt.timedelta(hours=3))

    eng = _publish(
        index,
        admin,
        title="工程部十二月设备巡检排班",
        slug="engineering-inspection-roster",
        issuing_department=depts["engineering"],
        category=categories["通知"],
        summary="仅工程部人员可见：十二月巡检排班与注意事项。",
        body=_paragraph("本月设备巡检按排班表执行，配电房、水泵房每日两巡，电梯机房每周一巡。请确认已阅。"),
        departments=[depts["engineering"]],
        requires_confirmation=True,
        confirm_deadline=now + dt.timedelta(days=5),
    )
    if eng:
        created += 1
        _read(eng, ["eng_head", "eng_liaison"], confirm=True, start=now - dt.timedelta(hours=2))

    rule = _publish(
        index,
        admin,
        title="客户投诉处理流程",
        slug="complaint-handling-procedure",
        issuing_department=depts["service"],
        category=categories["制度"],
        summary="投诉受理、分派、回访的时限要求。",
        body=_paragraph("投诉受理后 1 个工作日内分派至责任部门，责任部门 2 个工作日内反馈处理进度。"),
        requires_confirmation=True,
    )
    if rule:
        created += 1
        _read(
            rule,
            ["cs_head", "cs_liaison", "cs_staff", "cs_staff2", "eng_head", "sec_head", "env_head", "site_head",
             "site_staff", "qa_head"],
            confirm=True,
            start=now - dt.timedelta(days=6),
        )
        # A material change: the response time is shortened, so everyone confirms again.
        rule.body = _paragraph(
            "投诉受理后 4 个工作小时内分派至责任部门（原为 1 个工作日），责任部门 1 个工作日内反馈处理进度。",
            "重大投诉须同时报告分管领导。",
        )
        rule.reconfirm_requested = True
        rule.save_revision(user=admin).publish(user=admin)
        rule.refresh_from_db()
        _read(rule, ["cs_head", "cs_liaison", "qa_head"], confirm=True, start=now - dt.timedelta(hours=1))

    report = _publish(
        index,
        admin,
        title="关于十一月服务品质检查情况的通报",
        slug="november-quality-report",
        issuing_department=depts["quality"],
        category=categories["通报"],
        summary="供各部门负责人阅知。",
        body=_paragraph("十一月共检查 42 项，合格 39 项；三项整改已分派至相关部门，请各部门负责人督促落实。"),
        roles=list(Role.objects.filter(code=Role.DEPARTMENT_HEAD)),
    )
    if report:
        created += 1
    log(f"内部通告：新建 {created} 条演示通告（共 {NoticePage.objects.count()} 条）")
