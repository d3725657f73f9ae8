"""Browser journey: a 部门间函件 from draft to reply. 工程部's head drafts it in the Wagtail editor
and submits it to the workflow, approves it as head (审核), the 分管领导 signs it (签发), 客服部's
head 签收s it on the portal and answers with a 复函 that goes through the same workflow; the
archived PDF of the letter downloads."""

import pytest

from tests.browser import requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def _more_actions(page):
    page.locator("footer .w-dropdown__toggle").first.click()


def _approve(j, letter_pk: int, label: str):
    """Approve the letter's current workflow step from its edit page, as a reviewer does."""
    page = j.goto(f"/admin/pages/{letter_pk}/edit/")
    _more_actions(page)
    button = page.locator("button[data-workflow-action-name=approve]:not([data-workflow-action-modal-url])")
    assert label in button.inner_text()
    button.click()
    page.wait_for_load_state("networkidle")
    return page


def test_letter_is_drafted_signed_received_answered_and_its_pdf_downloads(journey, org):
    from letters.models import LetterArchive, LetterPage, LetterReceipt
    from letters.testing import ensure_groups, ensure_letter_setup

    index = ensure_letter_setup()
    ensure_groups()
    title = "关于配合开展消防设施联合检查的函"

    # 1. eng_head drafts the letter in the page editor and submits it to 函件签发流程.
    drafter = journey("letters-draft").login("eng_head")
    page = drafter.goto(f"/admin/pages/add/letters/letterpage/{index.pk}/")
    page.fill("#id_title", title)
    page.press("#id_title", "Tab")  # leaving the title fills in the page's slug
    page.select_option("#id_issuing_department", label="工程部")
    to_labels = page.locator("label", has=page.locator("input[name=to_departments]"))
    to_labels.filter(has_text="客服部").locator("input").check()
    page.fill("#id_subject", "我部定于本月底开展消防设施联合检查，请贵部协助。")
    page.fill("#id_background", "根据年度消防工作计划，须对各项目消防设施进行联合检查。")
    page.fill("#id_requests", "1. 请提前通知业主。\n2. 请安排客服人员陪同。")
    page.fill("#id_contact", "张工 13800000001")
    drafter.screenshot("editor")
    _more_actions(page)
    page.click("button[name=action-submit]")
    page.wait_for_load_state("networkidle")
    letter = LetterPage.objects.get(title=title)
    assert letter.current_workflow_task_state is not None and not letter.live

    # 2. The head approves (审核) and the 分管领导 signs (签发): the letter gets its number.
    _approve(drafter, letter.pk, "审核通过")
    leader = journey("letters-sign").login("leader")
    _approve(leader, letter.pk, "签发")
    letter.refresh_from_db()
    assert letter.live and letter.signed_at and letter.signer == org.users["leader"]
    assert letter.doc_number.startswith("工程函")
    assert LetterArchive.objects.get(letter=letter).status == "done"

    # 3. 客服部's head finds it waiting on the portal and 签收s it.
    receiver = journey("letters-receive").login("cs_head")
    page = receiver.goto("/letters/")
    assert title in page.content()
    receiver.screenshot("inbox")
    page.click(f"text={title}")
    page.wait_for_load_state("networkidle")
    assert letter.doc_number in page.content()
    page.locator("form[action$='/receive/'] button").first.click()
    page.wait_for_load_state("networkidle")
    assert "已签收" in page.content()
    receiver.screenshot("received")
    receipt = LetterReceipt.objects.get(letter=letter, department=org.depts["service"])
    assert receipt.received_by == org.users["cs_head"]

    # 4. The archived PDF downloads for a reader.
    response = receiver.page.request.get(f"{receiver.base_url}/letters/{letter.pk}/pdf/?download=1")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # 5. 复函: the draft opens in the editor, is completed and goes through the same workflow.
    page = receiver.goto(letter.url)
    page.locator("form[action$='/reply/'] button").click()
    page.wait_for_load_state("networkidle")
    assert "/admin/pages/" in page.url and "/edit/" in page.url
    page.fill("#id_requests", "我部将安排客服主管全程陪同，并于检查前两日发布业主通知。")
    receiver.screenshot("reply-editor")
    _more_actions(page)
    page.click("button[name=action-submit]")
    page.wait_for_load_state("networkidle")
    reply = LetterPage.objects.get(in_reply_to=letter)
    _approve(receiver, reply.pk, "审核通过")
    _approve(journey("letters-reply-sign").login("leader2"), reply.pk, "签发")
    reply.refresh_from_db()
    assert reply.live and reply.doc_number and reply.issuing_department == org.depts["service"]

    # The drafter sees the conversation: the letter and its reply.
    page = drafter.goto(reply.url)
    assert reply.doc_number in page.content() and letter.doc_number in page.content()
    drafter.screenshot("reply")
