"""Letters: drafting, review by the head, 签发 by the 分管领导 through Wagtail's workflow, numbering."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from wagtail.models import PageLogEntry, Workflow, WorkflowState

import pytest

from letters.models import DepartmentRoleTask, LetterNumberPattern, LetterPage
from letters.services import LetterNotSigned, allocate_number, issue_letter
from letters.testing import act, draft_letter, sign, submit
from portal.notifications.models import Notification


@pytest.fixture
def year():
    return timezone.localdate().year


def test_seeded_workflow_has_head_review_then_leader_signing(db):
    workflow = Workflow.objects.get(name="函件签发流程")
    tasks = [t.specific for t in workflow.tasks]
    assert [t.role for t in tasks] == ["head", "supervising_leader"]
    assert all(isinstance(t, DepartmentRoleTask) for t in tasks)


def test_signed_letter_gets_number_signer_date_and_receipts(org, year, django_capture_on_commit_callbacks):
    letter = draft_letter(org, cc=("quality",))
    with django_capture_on_commit_callbacks(execute=True):
        letter = sign(org, letter)
    assert letter.live
    assert letter.doc_number == f"工程函〔{year}〕1号"
    assert letter.signer == org.users["leader"]
    assert letter.written_date == timezone.localdate()
    assert sorted(letter.receipts.values_list("department__code", "kind")) == [("quality", "copy"), ("service", "main")]
    assert PageLogEntry.objects.filter(page=letter, action="letters.sign").exists()
    # 客服部's head and liaison are told to 签收; the drafter hears that it was signed.
    received = set(Notification.objects.filter(kind="letter.received").values_list("recipient__username", flat=True))
    assert {"cs_head", "cs_liaison", "qa_head", "qa_staff"} <= received
    assert Notification.objects.filter(kind="letter.signed", recipient=org.users["eng_head"]).exists()


def test_numbers_follow_department_pattern_and_count_per_year(org, year):
    LetterNumberPattern.objects.create(department=org.depts["security"], pattern="秩序{short}字〔{year}〕第{seq}号")
    first = sign(org, draft_letter(org))
    second = sign(org, draft_letter(org))
    sec = sign(org, draft_letter(org, owner="sec_head", issuing="security", to=("engineering",)), head="sec_head")
    assert (first.number_seq, second.number_seq) == (1, 2)
    assert second.doc_number == f"工程函〔{year}〕2号"
    assert sec.doc_number == f"秩序秩序字〔{year}〕第1号"
    assert allocate_number(org.depts["engineering"], year + 1) == (1, f"工程函〔{year + 1}〕1号")


def test_rolled_back_signing_gives_its_number_back(org, year):
    dept = org.depts["engineering"]
    with pytest.raises(RuntimeError), transaction.atomic():
        allocate_number(dept, year)
        raise RuntimeError("签发 failed after numbering")
    assert allocate_number(dept, year)[0] == 1


def test_invalid_number_pattern_is_refused(org):
    from django.core.exceptions import ValidationError

    pattern = LetterNumberPattern(department=org.depts["hr"], pattern="人事函{seq}号")
    with pytest.raises(ValidationError):
        pattern.full_clean()
    pattern.pattern = "{short}函〔{year}〕{seq}号{oops}"
    with pytest.raises(ValidationError):
        pattern.full_clean()


def test_only_issuing_department_head_reviews_and_its_leader_signs(org):
    letter = draft_letter(org)
    submit(letter, letter.owner)
    letter = LetterPage.objects.get(pk=letter.pk)
    task = letter.current_workflow_task.specific
    assert task.get_actions(letter, org.users["eng_head"])
    for outsider in ("cs_head", "leader", "eng_staff", "sec_head"):
        assert task.get_actions(letter, org.users[outsider]) == []
    act(letter, org.users["eng_head"], "approve")
    letter = LetterPage.objects.get(pk=letter.pk)
    task = letter.current_workflow_task.specific
    assert [a[1] for a in task.get_actions(letter, org.users["leader"])][1] == "签发"
    assert task.get_actions(letter, org.users["leader2"]) == []
    assert task.get_actions(letter, org.users["eng_head"]) == []
    assert list(task.get_task_states_user_can_moderate(org.users["leader"])) == [letter.current_workflow_task_state]
    assert not task.get_task_states_user_can_moderate(org.users["leader2"]).exists()


def test_deputy_can_sign_when_named_on_the_task(org):
    letter = draft_letter(org)
    submit(letter, letter.owner)
    act(letter, org.users["eng_head"], "approve")
    letter = LetterPage.objects.get(pk=letter.pk)
    task = letter.current_workflow_task.specific
    task.deputies.add(org.users["gm"])
    act(letter, org.users["gm"], "approve")
    assert LetterPage.objects.get(pk=letter.pk).signer == org.users["gm"]


def test_rejected_letter_goes_back_with_comment_and_is_not_sent(org):
    letter = draft_letter(org)
    submit(letter, letter.owner)
    act(letter, org.users["eng_head"], "approve")
    act(letter, org.users["leader"], "reject", "请补充费用测算。")
    letter = LetterPage.objects.get(pk=letter.pk)
    state = WorkflowState.objects.for_instance(letter).get()
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    assert not letter.live and letter.doc_number is None and not letter.receipts.exists()
    note = Notification.objects.filter(kind="letter.rejected", recipient=org.users["eng_head"]).first()
    assert "请补充费用测算。" in note.body
    # The drafter edits and resubmits; the step that asked for changes (签发) looks again.
    state.resume(user=org.users["eng_head"])
    letter = LetterPage.objects.get(pk=letter.pk)
    assert letter.current_workflow_task.specific.role == "supervising_leader"


def test_reviewers_are_notified_at_each_step(org):
    letter = draft_letter(org)
    submit(letter, letter.owner)
    assert Notification.objects.filter(kind="letter.review", recipient=org.users["eng_head"]).exists()
    act(letter, org.users["eng_head"], "approve")
    assert Notification.objects.filter(kind="letter.review", recipient=org.users["leader"]).exists()


def test_nobody_publishes_a_letter_outside_the_workflow(org):
    letter = draft_letter(org)
    for user in (org.users["admin"], org.users["eng_head"]):
        assert not letter.permissions_for_user(user).can_publish()
    client_letter = LetterPage.objects.get(pk=letter.pk)
    with pytest.raises(LetterNotSigned):
        issue_letter(client_letter, signer=org.users["leader"])


def test_signed_letter_is_frozen(org, login):
    letter = sign(org, draft_letter(org))
    perms = letter.permissions_for_user(org.users["admin"])
    assert not perms.can_edit() and not perms.can_delete() and not perms.can_unpublish()
    response = login(org.users["admin"]).get(f"/admin/pages/{letter.pk}/edit/")
    assert response.status_code == 302
    assert "/edit/" not in response["Location"]


def test_revision_content_never_drops_the_number(org):
    letter = sign(org, draft_letter(org))
    revision = letter.get_latest_revision()
    restored = revision.as_object()
    assert restored.doc_number == letter.doc_number
    assert restored.signer_id == letter.signer_id


def test_copy_of_signed_letter_is_an_unnumbered_draft(org):
    letter = sign(org, draft_letter(org))
    copy = letter.copy(update_attrs={"slug": "copy-of-letter", "title": letter.title}, keep_live=False)
    copy = LetterPage.objects.get(pk=copy.pk)
    assert copy.doc_number is None and copy.signed_at is None and not copy.live


def test_drafter_issues_only_for_own_department(org, login):
    from letters.forms import issuing_departments_for

    allowed = set(issuing_departments_for(org.users["eng_head"]).values_list("code", flat=True))
    assert allowed == {"engineering"}
    assert "security" in set(issuing_departments_for(org.users["leader"]).values_list("code", flat=True))


def test_drafter_creates_letter_in_admin(org, login):
    from letters.setup import ensure_letter_setup
    from letters.testing import ensure_groups

    index = ensure_letter_setup()
    ensure_groups()
    client = login(org.users["eng_head"])
    url = f"/admin/pages/add/letters/letterpage/{index.pk}/"
    assert client.get(url).status_code == 200
    data = {
        "title": "关于协助开展消防演练的函",
        "slug": "fire-drill",
        "issuing_department": org.depts["engineering"].pk,
        "to_departments": [org.depts["service"].pk],
        "urgency": "normal",
        "classification": "internal",
        "subject": "拟于月底开展消防演练。",
        "background": "",
        "requests": "请协助通知业主。",
        "body": "",
        "contact": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
        "action-submit": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    letter = LetterPage.objects.get(slug="fire-drill")
    assert letter.owner == org.users["eng_head"] and not letter.live
    assert WorkflowState.objects.for_instance(letter).get().status == WorkflowState.STATUS_IN_PROGRESS
    # Another department cannot be used as the issuer.
    data.update(slug="fire-drill-2", issuing_department=org.depts["security"].pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert not LetterPage.objects.filter(slug="fire-drill-2").exists()


def test_leader_signs_in_admin_workflow_action(org, login, year, django_capture_on_commit_callbacks):
    letter = draft_letter(org)
    submit(letter, letter.owner)
    act(letter, org.users["eng_head"], "approve")
    letter = LetterPage.objects.get(pk=letter.pk)
    state = letter.current_workflow_task_state
    client = login(org.users["leader"])
    from letters.testing import ensure_groups

    ensure_groups()
    url = f"/admin/pages/workflow/action/{letter.pk}/approve/{state.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {})
    assert response.status_code in (200, 302)
    letter = LetterPage.objects.get(pk=letter.pk)
    assert letter.live and letter.doc_number == f"工程函〔{year}〕1号"
    assert letter.signer == org.users["leader"]


def test_leader_sees_sign_and_send_back_actions_in_the_editor(org, login):
    from letters.testing import ensure_groups

    ensure_groups()
    letter = draft_letter(org)
    submit(letter, letter.owner)
    act(letter, org.users["eng_head"], "approve")
    body = login(org.users["leader"]).get(f"/admin/pages/{letter.pk}/edit/").content.decode()
    assert "签发" in body and "退回修改" in body
    assert ">发布<" not in body
    # Someone else's leader cannot even open it.
    assert login(org.users["leader2"]).get(f"/admin/pages/{letter.pk}/edit/").status_code == 302
