"""The tracked-matter base: references, visibility, services, history, audit log, signal,
attachments served only to people allowed to see them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from matters import services
from matters.models import (
    Attachment,
    EventKind,
    Matter,
    MatterEvent,
    MatterStatus,
    ReferenceCounter,
    Urgency,
)
from matters.references import next_reference, render, validate_pattern
from matters.signals import matter_opened
from portal.models import Role

TZ = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def open_one(user, **kwargs):
    kwargs.setdefault("title", "电梯故障")
    kwargs.setdefault("reference_prefix", "FK")
    return services.open_matter(submitter=user, **kwargs)


# -- reference numbers ---------------------------------------------------------------------------


def test_reference_pattern_renders_prefix_year_and_padded_sequence():
    when = datetime(2026, 3, 5, 10, tzinfo=TZ)
    assert render("{prefix}-{year}-{seq:4}", prefix="XQ", seq=1, when=when) == "XQ-2026-0001"
    assert render("{prefix}{yy}{month}-{seq:3}", prefix="FK", seq=12, when=when) == "FK2603-012"
    assert render("{prefix}-{year}-{seq:4}", prefix="XQ", seq=None, when=when) == "XQ-2026-#"


@pytest.mark.parametrize(
    "pattern",
    ["{prefix}-{year}", "{prefix}-{seq}-{seq}", "{prefix.__class__}-{seq}", "{nope}-{seq}", "<b>{seq}", "{seq:4}}"],
)
def test_bad_reference_patterns_are_rejected_in_chinese(pattern):
    with pytest.raises(ValidationError) as exc:
        validate_pattern(pattern)
    assert any("编号" in m for m in exc.value.messages)


@pytest.mark.django_db
def test_references_restart_each_year_and_share_a_scope_per_prefix():
    with transaction.atomic():
        a = next_reference("{prefix}-{year}-{seq:4}", prefix="XQ", when=datetime(2026, 12, 31, 23, tzinfo=TZ))
        b = next_reference("{prefix}-{year}-{seq:4}", prefix="XQ", when=datetime(2026, 12, 31, 23, 30, tzinfo=TZ))
        c = next_reference("{prefix}-{year}-{seq:4}", prefix="XQ", when=datetime(2027, 1, 1, 0, 1, tzinfo=TZ))
    assert (a, b, c) == ("XQ-2026-0001", "XQ-2026-0002", "XQ-2027-0001")
    assert ReferenceCounter.objects.get(scope="XQ-2026-#").last_value == 2


@pytest.mark.django_db(transaction=True)
def test_next_reference_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        next_reference("{prefix}-{seq}", prefix="X")


@pytest.mark.django_db
def test_rolled_back_submission_gives_its_number_back(org):
    user = org.users["cs_staff"]
    with pytest.raises(RuntimeError), transaction.atomic():
        open_one(user)
        raise RuntimeError("form failed later")
    matter = open_one(user)
    assert matter.reference.endswith("-0001")


# -- opening, history, audit, signal --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_open_matter_records_event_audit_log_and_sends_signal_after_commit(org):
    user = org.users["cs_staff"]
    received = []

    def receiver(sender, matter, source, **kwargs):
        # On commit: the matter is already in the database.
        received.append((matter.reference, source, Matter.objects.filter(pk=matter.pk).exists()))

    matter_opened.connect(receiver)
    try:
        with transaction.atomic():
            matter = open_one(user, urgency=Urgency.HIGH, source="form")
            assert received == []
    finally:
        matter_opened.disconnect(receiver)
    assert received == [(matter.reference, "form", True)]
    assert matter.status == MatterStatus.SUBMITTED
    assert matter.submitter_department == org.depts["service"]
    assert matter.urgency == Urgency.HIGH
    assert list(matter.events.values_list("kind", flat=True)) == [EventKind.CREATED]
    assert ModelLogEntry.objects.filter(action="matters.open", object_id=str(matter.pk)).exists()


@pytest.mark.django_db
def test_open_matter_rejects_unknown_urgency(org):
    with pytest.raises(services.InvalidInput):
        open_one(org.users["cs_staff"], urgency="urgent")


# -- visibility ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_visibility_follows_submitter_head_departments_and_coordinator(org):
    u = org.users
    matter = open_one(u["cs_staff"])
    visible = lambda user: Matter.objects.visible_to(user).filter(pk=matter.pk).exists()  # noqa: E731
    assert visible(u["cs_staff"])  # submitter
    assert visible(u["cs_head"])  # head of the submitter's department
    assert visible(u["coordinator"])  # coordinator role
    assert visible(u["admin"])  # superuser
    assert not visible(u["eng_staff"])
    assert not visible(u["cs_staff2"])  # a colleague is not the head
    matter.lead_department = org.depts["engineering"]
    matter.save()
    matter.cooperating_departments.add(org.depts["security"])
    assert visible(u["eng_staff"]) and visible(u["eng_head"]) and visible(u["eng_liaison"])
    assert visible(u["sec_staff"])
    assert not visible(u["env_head"])
    # One row per matter, however many ways a person can see it.
    assert Matter.objects.visible_to(u["eng_head"]).count() == 1


@pytest.mark.django_db
def test_coordinator_role_comes_from_the_role_table(org):
    matter = open_one(org.users["cs_staff"])
    env = org.users["env_liaison"]
    assert not matter.is_visible_to(env)
    Role.objects.get(code=Role.COORDINATOR).members.add(env)
    env = type(env).objects.get(pk=env.pk)
    assert matter.is_visible_to(env)


# -- comments, files, status, withdrawal ------------------------------------------------------------


@pytest.mark.django_db
def test_comment_is_recorded_and_outsiders_are_refused(org):
    matter = open_one(org.users["cs_staff"])
    event = services.add_comment(matter, org.users["cs_head"], "  <b>请补充照片</b> ")
    assert event.kind == EventKind.COMMENT and event.text == "<b>请补充照片</b>"
    with pytest.raises(services.NotAllowed) as exc:
        services.add_comment(matter, org.users["eng_staff"], "我来看看")
    assert "无权" in str(exc.value)
    with pytest.raises(services.InvalidInput):
        services.add_comment(matter, org.users["cs_staff"], "   ")


@pytest.mark.django_db
def test_add_attachment_checks_content_and_keeps_hash(org):
    matter = open_one(org.users["cs_staff"])
    attachment = services.add_attachment(
        matter, org.users["cs_staff"], SimpleUploadedFile("报告.pdf", PDF, "application/pdf"), text="补充报告"
    )
    assert attachment.original_name == "报告.pdf"
    assert attachment.content_type == "application/pdf"
    assert len(attachment.sha256) == 64 and attachment.size == len(PDF)
    assert attachment.event.kind == EventKind.FILE_ADDED
    assert "报告" not in attachment.file.name  # stored under a random name
    exe = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 64)
    with pytest.raises(services.InvalidInput) as exc:
        services.add_attachment(matter, org.users["cs_staff"], exe)
    assert "不符" in str(exc.value)
    assert Attachment.objects.count() == 1


@pytest.mark.django_db
def test_failed_transaction_removes_the_stored_file(org):
    matter = open_one(org.users["cs_staff"])
    storage_names = []
    with pytest.raises(RuntimeError), services.files_removed_on_error(), transaction.atomic():
        a = services.store_attachment(
            matter, SimpleUploadedFile("x.pdf", PDF), uploaded_by=org.users["cs_staff"], content_type="application/pdf"
        )
        storage_names.append(a.file.name)
        assert a.file.storage.exists(a.file.name)
        raise RuntimeError("boom")
    assert not Attachment.objects.exists()
    from django.core.files.storage import storages

    assert not storages["private"].exists(storage_names[0])


@pytest.mark.django_db
def test_change_status_follows_transitions_and_permissions(org):
    matter = open_one(org.users["cs_staff"])
    with pytest.raises(services.NotAllowed):
        services.change_status(matter, org.users["cs_staff"], MatterStatus.ACCEPTED)
    event = services.change_status(matter, org.users["coordinator"], MatterStatus.ROUTED, text="分派工程部")
    assert event.data == {"from": "submitted", "to": "routed"}
    assert event.status_label == "已分派"
    with pytest.raises(services.WrongState) as exc:
        services.change_status(matter, org.users["coordinator"], MatterStatus.CONFIRMED)
    assert "已分派" in str(exc.value)
    assert ModelLogEntry.objects.filter(action="matters.status_change").count() == 1
    matter.refresh_from_db()
    assert matter.status == MatterStatus.ROUTED


@pytest.mark.django_db
def test_lead_department_head_may_change_status(org):
    matter = open_one(org.users["cs_staff"])
    matter.lead_department = org.depts["engineering"]
    matter.save()
    services.change_status(matter, org.users["coordinator"], MatterStatus.ROUTED)
    services.change_status(matter, org.users["eng_head"], MatterStatus.ACCEPTED)
    assert Matter.objects.get(pk=matter.pk).status == MatterStatus.ACCEPTED


@pytest.mark.django_db
def test_withdraw_only_by_submitter_and_only_before_acceptance(org):
    matter = open_one(org.users["cs_staff"])
    with pytest.raises(services.NotAllowed):
        services.withdraw(matter, org.users["cs_head"])
    services.withdraw(matter, org.users["cs_staff"], reason="重复提交")
    assert Matter.objects.get(pk=matter.pk).status == MatterStatus.WITHDRAWN
    assert MatterEvent.objects.filter(matter=matter, kind=EventKind.WITHDRAWN).exists()

    accepted = open_one(org.users["cs_staff"])
    services.change_status(accepted, org.users["coordinator"], MatterStatus.ACCEPTED)
    with pytest.raises(services.WrongState) as exc:
        services.withdraw(accepted, org.users["cs_staff"])
    assert "受理后不能撤回" in str(exc.value)


# -- front end -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attachment_download_is_permission_checked(org, client):
    matter = open_one(org.users["cs_staff"])
    attachment = services.add_attachment(
        matter, org.users["cs_staff"], SimpleUploadedFile("a.pdf", PDF, "application/pdf")
    )
    url = reverse("matters:attachment", args=[attachment.pk])
    client.force_login(org.users["eng_staff"])
    assert client.get(url).status_code == 403
    client.force_login(org.users["cs_head"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


@pytest.mark.django_db
def test_matter_detail_hidden_from_outsiders(org, client):
    matter = open_one(org.users["cs_staff"], title="<script>alert(1)</script>")
    client.force_login(org.users["eng_staff"])
    assert client.get(matter.get_absolute_url()).status_code == 404
    client.force_login(org.users["cs_staff"])
    html = client.get(matter.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_detail_page_comment_file_and_withdraw_flow(org, client):
    user = org.users["cs_staff"]
    matter = open_one(user)
    client.force_login(user)
    r = client.post(reverse("matters:comment", args=[matter.pk]), {"text": "已电话沟通"})
    assert r.status_code == 302
    r = client.post(reverse("matters:comment", args=[matter.pk]), {"text": ""})
    assert r.status_code == 200 and "请填写留言内容" in r.content.decode()
    r = client.post(
        reverse("matters:attach", args=[matter.pk]),
        {"file": SimpleUploadedFile("evil.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 80)},
    )
    assert r.status_code == 200 and "不符" in r.content.decode()
    r = client.post(reverse("matters:attach", args=[matter.pk]), {"file": SimpleUploadedFile("ok.pdf", PDF)})
    assert r.status_code == 302
    r = client.post(reverse("matters:withdraw", args=[matter.pk]), {"reason": "不需要了"}, follow=True)
    assert "已撤回" in r.content.decode()
    kinds = list(MatterEvent.objects.filter(matter=matter).values_list("kind", flat=True))
    assert kinds == ["created", "comment", "file_added", "withdrawn"]
    # A second withdrawal is refused with a message, not an error page.
    r = client.post(reverse("matters:withdraw", args=[matter.pk]), follow=True)
    assert r.status_code == 200 and "受理后不能撤回" in r.content.decode()


@pytest.mark.django_db
def test_my_submissions_lists_only_mine_with_status_filter(org, client):
    mine = open_one(org.users["cs_staff"], title="我的事项")
    open_one(org.users["eng_staff"], title="别人的事项")
    services.withdraw(open_one(org.users["cs_staff"], title="撤回的事项"), org.users["cs_staff"])
    client.force_login(org.users["cs_staff"])
    html = client.get(reverse("matters:mine")).content.decode()
    assert mine.reference in html and "别人的事项" not in html and "撤回的事项" in html
    html = client.get(reverse("matters:mine") + "?status=open").content.decode()
    assert "我的事项" in html and "撤回的事项" not in html
    assert client.get(reverse("matters:mine") + "?status=<x>&page=abc").status_code == 200


@pytest.mark.django_db
def test_my_submissions_query_count_is_constant(org, client, django_assert_max_num_queries):
    user = org.users["cs_staff"]
    for i in range(3):
        open_one(user, title=f"事项{i}")
    client.force_login(user)
    client.get(reverse("matters:mine"))
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("matters:mine"))
    for i in range(15):
        open_one(user, title=f"更多{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("matters:mine"))
