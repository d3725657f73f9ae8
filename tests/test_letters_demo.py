"""Letters: demo data, and the issue's "Done when" walk through the browser's requests."""

from __future__ import annotations

from wagtail.models import WorkflowState

import pytest

from letters.demo import seed_letters
from letters.models import ArchiveStatus, LetterArchive, LetterPage, LetterReceipt
from tests import pdfinspect


def _counts():
    return (
        LetterPage.objects.count(),
        LetterPage.objects.filter(signed_at__isnull=False).count(),
        LetterReceipt.objects.count(),
        LetterReceipt.objects.filter(received_at__isnull=False).count(),
        LetterArchive.objects.count(),
        WorkflowState.objects.count(),
    )


def test_seed_demo_letters_in_several_states_and_idempotent(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed_letters(lambda *a: None)
    first = _counts()
    seed_letters(lambda *a: None)
    assert _counts() == first
    signed = LetterPage.objects.filter(signed_at__isnull=False)
    assert signed.filter(classification="confidential").count() == 1
    assert signed.filter(in_reply_to__isnull=False).count() == 1
    assert LetterPage.objects.filter(live=False).count() >= 3  # in review, rejected, draft
    states = set(WorkflowState.objects.values_list("status", flat=True))
    assert {"approved", "in_progress", "needs_changes"} <= states
    assert LetterReceipt.objects.filter(received_at__isnull=True, department__code="service").exists()
    assert LetterArchive.objects.filter(status=ArchiveStatus.DONE).count() == signed.count()


def _letter_form(org, **overrides):
    data = {
        "title": "关于配合开展消防设施联合检查的函",
        "slug": "fire-inspection",
        "issuing_department": org.depts["engineering"].pk,
        "to_departments": [org.depts["service"].pk],
        "cc_departments": [],
        "urgency": "urgent",
        "classification": "internal",
        "reply_by": "",
        "subject": "我部拟于下周开展消防设施联合检查，请贵部协助通知业主并安排人员陪同入户。",
        "background": "根据消防安全管理制度，每季度须对住宅楼消防设施进行一次全面检查。",
        "requests": "1. 请于检查前两日发布通知。\n2. 请安排客服人员陪同入户检查。",
        "body": "",
        "contact": "张工，0571-8800 1006",
        "in_reply_to": "",
        "corrects": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
        "action-submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != [] and v is not None}


def _approve(client, letter):
    letter = LetterPage.objects.get(pk=letter.pk)
    state = letter.current_workflow_task_state
    response = client.post(f"/admin/pages/workflow/action/{letter.pk}/approve/{state.pk}/", {})
    assert response.status_code in (200, 302), response.content[:500]


def test_done_when_walk(org, login, django_capture_on_commit_callbacks):
    from letters.testing import ensure_groups, ensure_letter_setup

    index = ensure_letter_setup()
    ensure_groups()
    # eng_head drafts a letter to 客服部 in the admin and submits it.
    client = login(org.users["eng_head"])
    response = client.post(f"/admin/pages/add/letters/letterpage/{index.pk}/", _letter_form(org))
    assert response.status_code == 302
    letter = LetterPage.objects.get(slug="fire-inspection")
    _approve(client, letter)  # 部门负责人审核 (eng_head is the head)
    # leader 签发.
    with django_capture_on_commit_callbacks(execute=True):
        _approve(login(org.users["leader"]), letter)
    letter = LetterPage.objects.get(pk=letter.pk)
    assert letter.doc_number and letter.signer == org.users["leader"]
    # 客服部's liaison finds it in the inbox and 签收.
    client = login(org.users["cs_liaison"])
    inbox = client.get("/letters/").content.decode()
    assert letter.title in inbox and "待签收" in inbox
    client.post(f"/letters/{letter.pk}/receive/", {"department": org.depts["service"].pk})
    assert LetterReceipt.objects.get(letter=letter, department__code="service").received_by == org.users["cs_liaison"]
    # 客服部's head replies: a draft 复函 opens in the admin, is submitted, reviewed and signed by leader2.
    client = login(org.users["cs_head"])
    response = client.post(f"/letters/{letter.pk}/reply/")
    reply = LetterPage.objects.get(in_reply_to=letter)
    edit = _letter_form(
        org,
        title=reply.title,
        slug=reply.slug,
        issuing_department=org.depts["service"].pk,
        to_departments=[org.depts["engineering"].pk],
        subject=reply.subject,
        background="我部已在各楼栋发布检查通知。",
        requests="1. 已安排客服人员陪同入户。",
        contact="黄丹，0571-8800 1005",
        in_reply_to=letter.pk,
    )
    response = client.post(f"/admin/pages/{reply.pk}/edit/", edit)
    assert response.status_code == 302, response.content.decode()[:3000]
    _approve(client, reply)
    with django_capture_on_commit_callbacks(execute=True):
        _approve(login(org.users["leader2"]), reply)
    reply = LetterPage.objects.get(pk=reply.pk)
    assert reply.doc_number.startswith("客服函") and reply.in_reply_to == letter
    # cs_staff reads the letter with its thread and opens the archived PDF.
    client = login(org.users["cs_staff"])
    page = client.get(letter.url).content.decode()
    assert reply.doc_number in page and "往来函件" in page
    response = client.get(f"/letters/{letter.pk}/pdf/")
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    text = pdfinspect.text(pdf)
    flat = text.replace(" ", "").replace("\n", "")
    assert letter.doc_number in flat and "关于配合开展消防设施联合检查的函" in flat
    assert "请安排客服人员陪同入户检查。" in flat


@pytest.mark.parametrize("path", ["/letters/", "/letters/?tab=sent", "/letters/?tab=all"])
def test_inbox_pages_render_for_someone_without_department(org, login, path):
    assert login(org.users["nodept"]).get(path).status_code == 200
