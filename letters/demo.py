"""Demo letters in several states, made through the real workflow (idempotent by slug)."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from portal.models import Department, User

from .models import LetterAttachment, LetterIndexPage, LetterPage
from .services import receive_letter, start_reply

DRAFTERS_GROUP = "函件起草人"
REVIEWERS_GROUP = "函件审核签发人"


def ensure_groups() -> None:
    """Heads and liaisons draft; heads and 分管领导 review and sign."""
    drafters = Group.objects.filter(name=DRAFTERS_GROUP).first()
    reviewers = Group.objects.filter(name=REVIEWERS_GROUP).first()
    people = User.objects.filter(
        Q(headed_departments__isnull=False) | Q(liaison_departments__isnull=False) | Q(supervised_departments__isnull=False)
    ).distinct()
    for user in people:
        if drafters and (user.headed_departments.exists() or user.liaison_departments.exists()):
            user.groups.add(drafters)
        if reviewers and (user.headed_departments.exists() or user.supervised_departments.exists()):
            user.groups.add(reviewers)


def create_letter(index, slug, owner, *, to, cc=(), named=(), attachments=(), **fields) -> tuple[LetterPage, bool]:
    existing = LetterPage.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    letter = LetterPage(slug=slug, owner=owner, live=False, **fields)
    letter.to_departments.set(to)
    letter.cc_departments.set(cc)
    letter.named_readers.set(named)
    index.add_child(instance=letter)
    for title, name, content in attachments:
        att = LetterAttachment(page=letter, title=title)
        att.file.save(name, ContentFile(content), save=False)
        att.save()
    letter.save_revision(user=owner, log_action=True)
    return letter, True


def act(letter: LetterPage, user, action: str, comment: str = "") -> None:
    """Do what a reviewer does in the admin: approve or reject the current step."""
    letter = LetterPage.objects.get(pk=letter.pk)
    state = letter.current_workflow_task_state
    state.task.specific.on_action(state, user, action, comment=comment)


def submit(letter: LetterPage, user) -> None:
    letter = LetterPage.objects.get(pk=letter.pk)
    letter.get_workflow().start(letter, user)


def seed_letters(log=print) -> None:
    index = LetterIndexPage.objects.first()
    if index is None:
        log("函件：未找到函件目录页（请先运行 migrate）")
        return
    ensure_groups()
    users = {u.username: u for u in User.objects.all()}
    depts = {d.code: d for d in Department.objects.all()}
    if not all(k in users for k in ("eng_head", "leader", "cs_head", "cs_liaison", "leader2", "sec_head")):
        log("函件：演示账号不全，跳过")
        return
    eng, cs = depts["engineering"], depts["service"]
    today = timezone.localdate()
    made = 0

    # 1. Signed, received by 客服部 and answered with a signed 复函.
    lift, created = create_letter(
        index,
        "demo-lift-inspection",
        users["eng_head"],
        title="关于协助做好电梯年度检验期间业主告知工作的函",
        issuing_department=eng,
        to=[cs],
        cc=[depts["quality"]],
        subject="我部定于下周对阳光花园 1 至 6 号楼电梯进行年度检验，检验期间电梯将分批停运，需贵部协助做好业主告知与解释工作。",
        background="根据《特种设备安全法》及市场监管部门要求，电梯每年须进行一次定期检验。\n（一）检验时间：每栋楼约半天，具体安排见附件。\n（二）检验期间该栋电梯停止运行，检验结束后恢复。",
        requests="1. 请于检验前两日通过业主群和单元公告栏发布停梯通知。\n2. 请客服中心安排专人解答业主咨询，对老人、孕妇等特殊住户提前登记，我部派员协助上下楼。\n3. 如有投诉，请及时转我部对接人马超。",
        urgency="urgent",
        classification="internal",
        reply_by=today + datetime.timedelta(days=3),
        contact="马超，0571-8800 1006",
        attachments=[("电梯年检分楼栋时间安排表", "lift-schedule.csv", "楼栋,日期,时段\n1号楼,周一,上午\n2号楼,周一,下午\n".encode())],
    )
    if created:
        submit(lift, users["eng_head"])
        act(lift, users["eng_head"], "approve")
        act(lift, users["leader"], "approve", "同意，注意做好安全提示。")
        lift.refresh_from_db()
        receive_letter(lift, users["cs_liaison"])
        reply = start_reply(lift, users["cs_head"])
        reply.background = "贵部来函已收悉，我部已排定停梯告知方案。"
        reply.requests = "1. 停梯通知已于今日在各楼栋公告栏张贴，并在业主群发布。\n2. 已登记特殊住户 12 户，名单另行发送贵部对接人。\n3. 请贵部检验结束后及时通知我部，以便向业主说明恢复运行。"
        reply.contact = "黄丹，0571-8800 1005"
        reply.save_revision(user=users["cs_head"], log_action=True)
        submit(reply, users["cs_head"])
        act(reply, users["cs_head"], "approve")
        act(reply, users["leader2"], "approve")
        made += 2

    # 2. Signed and sent, waiting for 客服部 to 签收 (the demo walk signs for it).
    water, created = create_letter(
        index,
        "demo-water-outage",
        users["eng_head"],
        title="关于滨江大厦二次供水水箱清洗停水安排的函",
        issuing_department=eng,
        to=[cs],
        cc=[depts["environment"], depts["riverside"]],
        subject="为保障饮用水卫生，我部将对滨江大厦二次供水水箱进行季度清洗消毒，请贵部协助通知住户。",
        background="按照二次供水卫生管理规定，水箱每季度清洗消毒一次。本次清洗预计停水四小时。",
        requests="1. 请提前一日通知住户做好储水准备。\n2. 清洗完成后请协助收集住户对水质的反馈。",
        reply_by=today + datetime.timedelta(days=5),
        contact="张工，0571-8800 1006",
    )
    if created:
        submit(water, users["eng_head"])
        act(water, users["eng_head"], "approve")
        act(water, users["leader"], "approve")
        made += 1

    # 3. A 机密 letter: only 工程部, 财务部 and the named coordinator may read it.
    secret, created = create_letter(
        index,
        "demo-contract-confidential",
        users["eng_head"],
        title="关于消防维保合同续签价格的函",
        issuing_department=eng,
        to=[depts["finance"]],
        named=[users["coordinator"]],
        subject="现有消防维保合同将于年底到期，供应商提出续签报价上调，特函商请贵部审核。",
        background="现合同年费用为人民币二十八万元，供应商报价上调百分之八。",
        requests="请贵部于本月底前提出付款与预算意见。",
        classification="confidential",
        contact="张工，0571-8800 1006",
    )
    if created:
        submit(secret, users["eng_head"])
        act(secret, users["eng_head"], "approve")
        act(secret, users["leader"], "approve")
        made += 1

    # 4. Reviewed by the head, waiting for 分管领导 签发.
    pending, created = create_letter(
        index,
        "demo-night-repairs",
        users["eng_head"],
        title="关于夜间维修施工噪声管控的函",
        issuing_department=eng,
        to=[depts["security"]],
        subject="近期夜间应急维修增多，为减少对业主的影响，请贵部协助管控施工时段。",
        requests="请夜间巡逻岗发现二十二时后非应急施工时及时制止并告知我部。",
    )
    if created:
        submit(pending, users["eng_head"])
        act(pending, users["eng_head"], "approve")
        made += 1

    # 5. Rejected by the 分管领导 with a comment: back with the drafter.
    rejected, created = create_letter(
        index,
        "demo-patrol-route",
        users["sec_head"],
        title="关于调整地下车库巡查路线的函",
        issuing_department=depts["security"],
        to=[eng],
        subject="拟调整地下车库夜间巡查路线，需工程部配合调整照明开关时间。",
        requests="请工程部将地下车库 B2 层照明关闭时间由二十三时调整为二十四时。",
    )
    if created:
        submit(rejected, users["sec_head"])
        act(rejected, users["sec_head"], "approve")
        act(rejected, users["leader"], "reject", "请补充调整后每月增加的电费测算，再报签发。")
        made += 1

    # 6. A draft not yet submitted.
    _draft, created = create_letter(
        index,
        "demo-greening-draft",
        users["eng_head"],
        title="关于绿化灌溉管网改造配合事项的函",
        issuing_department=eng,
        to=[depts["environment"]],
        subject="我部计划改造阳光花园绿化灌溉管网，需环境部配合调整浇灌时间。",
    )
    made += int(created)
    log(f"函件：新建 {made} 封演示函件（共 {LetterPage.objects.count()} 封）")
