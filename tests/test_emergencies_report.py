"""突发事件上报: numbering, idempotency against double taps, paging of the people on duty,
bad input kept with Chinese errors, photos checked and private, permissions by guessed URL."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest
from openpyxl import load_workbook

from emergencies import services
from emergencies.models import Emergency, Milestone, PagedPerson, Photo
from emergencies.testing import T0, elevator_type, photo_upload, report, shift, standard_roster
from matters.models import ReferenceCounter
from portal.notifications.models import Notification


@pytest.fixture
def roster(org):
    standard_roster(org)
    return org


def test_report_gets_gap_free_number_and_clock_milestones(roster):
    first, created = report(roster)
    second, _ = report(roster, when=T0 + dt.timedelta(minutes=5))
    assert created
    assert (first.number, second.number) == ("JJ-2026-0001", "JJ-2026-0002")
    due = {m.kind: m.due_at - first.reported_at for m in first.milestones.all()}
    assert due == {
        "respond": dt.timedelta(minutes=30), "written": dt.timedelta(hours=1), "plan": dt.timedelta(hours=2),
        "progress": dt.timedelta(hours=4), "gm": dt.timedelta(hours=2),
    }
    # The sweep first looks again 5 minutes before 响应 is due (the voice call to the people on duty).
    assert first.next_due_at == first.reported_at + dt.timedelta(minutes=30) - services.VOICE_LEAD
    assert ModelLogEntry.objects.filter(action="emergencies.report", object_id=str(first.pk)).exists()


def test_same_key_twice_is_one_event_and_one_number(roster):
    a, created_a = report(roster, key="k1")
    b, created_b = report(roster, key="k1")
    assert (created_a, created_b) == (True, False)
    assert a.pk == b.pk
    assert Emergency.objects.count() == 1
    assert ReferenceCounter.objects.get(scope="JJ-2026-#").last_value == 1


def test_key_of_someone_else_is_refused(roster):
    report(roster, key="k1")
    with pytest.raises(services.InvalidInput):
        report(roster, key="k1", reporter="site2_staff")


def test_report_pages_on_duty_people_and_supervising_leaders(roster):
    e, _ = report(roster)
    paged = {p.user.username: p.reason for p in PagedPerson.objects.filter(emergency=e).select_related("user")}
    assert paged["eng_staff"] == "duty"
    assert paged["sec_staff"] == "duty"
    assert paged["site_staff"] == "duty"
    assert paged["leader"] == "leader"  # 分管 engineering and security
    assert paged["leader2"] == "leader"  # 分管 the 管理处
    assert "eng_staff2" not in paged  # in the department, not on duty
    inbox = Notification.objects.filter(recipient=roster.users["eng_staff"], kind=services.KIND_PAGE, channel="inbox")
    assert inbox.count() == 1
    assert "电梯困人" in inbox.get().title


def test_nobody_on_duty_pages_head_and_coordinator_and_records_gap(org):
    shift(org, "site_staff", "sunshine")
    e, _ = report(org)
    paged = {p.user.username: p.reason for p in e.paged.select_related("user")}
    assert paged["eng_head"] == "head"
    assert paged["sec_head"] == "head"
    assert paged["coordinator"] == "coordinator"
    gap = e.entries.get(kind="gap")
    assert "工程部" in gap.text and "秩序部" in gap.text


def test_company_level_roster_is_paged_too(roster):
    shift(roster, "leader3", None)
    e, _ = report(roster)
    assert e.paged.filter(user=roster.users["leader3"], reason="duty").exists()


def test_double_tap_through_the_page_creates_one_event(client, roster):
    client.force_login(roster.users["site_staff"])
    page = client.get(reverse("emergencies:report"))
    key = page.context["form"].initial["key"]
    data = {"key": key, "event_type": elevator_type(roster).pk, "site": roster.depts["sunshine"].pk,
            "location": "3 号楼 2 号电梯", "description": "2 人被困", "grade": "general"}
    first = client.post(reverse("emergencies:report"), data)
    second = client.post(reverse("emergencies:report"), data)
    assert Emergency.objects.count() == 1
    e = Emergency.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == e.get_absolute_url()


def test_report_without_type_or_location_keeps_what_was_typed(client, roster):
    client.force_login(roster.users["site_staff"])
    response = client.post(reverse("emergencies:report"), {
        "key": "abc", "site": roster.depts["sunshine"].pk, "location": "", "description": "水管爆裂", "grade": "general"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请选择事件类型。" in html
    assert "请填写具体位置" in html
    assert "水管爆裂" in html
    assert Emergency.objects.count() == 0


def test_photo_that_is_not_an_image_is_refused(client, roster):
    client.force_login(roster.users["site_staff"])
    fake = SimpleUploadedFile("scene.jpg", b"MZ\x90\x00 this is an exe", content_type="image/jpeg")
    response = client.post(reverse("emergencies:report"), {
        "key": "abc", "event_type": elevator_type(roster).pk, "site": roster.depts["sunshine"].pk,
        "location": "3 号楼", "grade": "general", "photos": [fake]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "scene.jpg" in html and ("不符" in html or "无法识别" in html)
    assert "3 号楼" in html
    assert Emergency.objects.count() == 0
    assert ReferenceCounter.objects.filter(scope="JJ-2026-#").count() == 0


def test_oversized_photo_is_refused(roster):
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (services.PHOTO_MAX_BYTES + 1))
    with pytest.raises(services.InvalidInput, match="太大"):
        report(roster, photos=[big])


def test_photo_is_private_and_served_only_to_people_who_see_the_event(client, roster):
    e, _ = report(roster, photos=[photo_upload()])
    photo = Photo.objects.get(emergency=e)
    assert "scene" not in photo.file.name  # stored under a random name, in private storage
    from django.conf import settings

    assert str(photo.file.path).startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not str(photo.file.path).startswith(str(settings.MEDIA_ROOT))
    client.force_login(roster.users["eng_staff"])
    ok = client.get(photo.get_absolute_url())
    assert ok.status_code == 200 and ok["Content-Type"] == "image/png"
    client.force_login(roster.users["fin_staff"])
    assert client.get(photo.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("name", ["detail", "timeline"])
def test_guessed_url_of_an_event_is_not_found_for_outsiders(client, roster, name):
    e, _ = report(roster)
    client.force_login(roster.users["fin_staff"])
    assert client.get(reverse(f"emergencies:{name}", args=[e.pk])).status_code == 404
    client.force_login(roster.users["eng_staff"])
    assert client.get(reverse(f"emergencies:{name}", args=[e.pk])).status_code == 200


def test_outsider_cannot_act_by_posting_to_a_guessed_url(client, roster):
    e, _ = report(roster)
    client.force_login(roster.users["fin_staff"])
    for name, data in [("acknowledge", {}), ("update", {"kind": "note", "text": "x"}),
                       ("status", {"status": "recovered"}), ("review", {"cause": "x", "measures": "x"})]:
        assert client.post(reverse(f"emergencies:{name}", args=[e.pk]), data).status_code == 404
    e.refresh_from_db()
    assert e.acknowledged_at is None and e.entries.filter(kind="note").count() == 0


def test_outsider_sees_nothing_in_list_ledger_and_export(client, roster):
    e, _ = report(roster)
    client.force_login(roster.users["fin_staff"])
    for url in [reverse("emergencies:index"), reverse("emergencies:ledger") + "?month=2026-12"]:
        assert e.number not in client.get(url).content.decode()
    export = client.get(reverse("emergencies:ledger") + "?month=2026-12&format=xlsx")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1  # the header only
    client.force_login(roster.users["eng_head"])
    rows = list(load_workbook(io.BytesIO(client.get(
        reverse("emergencies:ledger") + "?month=2026-12&format=xlsx").content)).active.iter_rows(values_only=True))
    assert rows[1][0] == e.number


def test_home_page_offers_the_report_button(client, roster, home_page):
    client.force_login(roster.users["site_staff"])
    html = client.get("/").content.decode()
    assert reverse("emergencies:report") in html


def test_milestones_created_once_per_kind(roster):
    e, _ = report(roster)
    assert Milestone.objects.filter(emergency=e).count() == 5


def test_ledger_counts_each_missed_milestone_once_whatever_the_joins(client, roster):
    from emergencies.sweep import sweep

    e, _ = report(roster)
    sweep(T0 + dt.timedelta(minutes=31))
    client.force_login(roster.users["eng_head"])  # sees it through a department and a page
    rows = list(load_workbook(io.BytesIO(client.get(
        reverse("emergencies:ledger") + "?month=2026-12&format=xlsx").content)).active.iter_rows(values_only=True))
    assert rows[1][0] == e.number and rows[1][-1] == 1


def test_a_report_that_fails_after_storing_its_photo_leaves_no_file(roster, monkeypatch):
    import os

    from django.conf import settings

    def boom(*args, **kwargs):
        raise RuntimeError("paging failed")

    monkeypatch.setattr(services, "page_on_duty", boom)
    before = {os.path.join(d, f) for d, _, fs in os.walk(settings.PRIVATE_MEDIA_ROOT) for f in fs}
    with pytest.raises(RuntimeError):
        report(roster, photos=[photo_upload()])
    after = {os.path.join(d, f) for d, _, fs in os.walk(settings.PRIVATE_MEDIA_ROOT) for f in fs}
    assert after == before
    assert Emergency.objects.count() == 0 and Photo.objects.count() == 0
    assert ReferenceCounter.objects.filter(scope="JJ-2026-#", last_value__gt=0).count() == 0  # number given back
