"""Browser journey: a 管理处 employee's 故障转呈单 travels to 工程部, which accepts it and posts
progress; the submitter follows it in 我的提交 and the 协调岗 sees it in the ledger.

The form's own details (conditional fields, double-click, attachment checks) are proven in
tests/test_forms_journey.py; this journey follows the matter through the departments."""

import pytest

from tests.browser import requires_chromium, seed_fault_form, submit_fault_report

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_fault_report_is_accepted_progressed_and_in_the_ledger(journey, org, tmp_path):
    from forms.testing import png_bytes
    from matters.models import Matter

    seed_fault_form()
    photo = tmp_path / "水泵.png"
    photo.write_bytes(png_bytes())

    # 1. site_staff submits with a photo and sees the reference number.
    staff = journey("matters-submit").login("site_staff")
    reference = submit_fault_report(staff, title="生活水泵漏水", urgency="high", photo=photo)
    assert reference.startswith("ZC-")
    staff.screenshot("landing")
    matter = Matter.objects.get(reference=reference)
    assert matter.lead_department == org.depts["engineering"]
    assert matter.attachments.get().original_name == "水泵.png"

    page = staff.goto("/matters/mine/")
    page.click(f"text={reference}")
    page.wait_for_load_state("networkidle")
    assert "水泵.png" in page.content()
    staff.screenshot("mine-detail")

    # 2. eng_head accepts it (handler: eng_staff) and posts progress in the 办理 section.
    head = journey("matters-handle").login("eng_head")
    page = head.goto(f"/matters/{matter.pk}/")
    handling = page.locator("#handling")
    assert "受理" in handling.inner_text()
    head.screenshot("before-accept")
    page.select_option("[name=accept-handler]", label=org.users["eng_staff"].name)
    page.fill("[name=accept-text]", "已安排维修班")
    page.locator("form[action$='/act/accept/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已受理" in page.content()
    matter.refresh_from_db()
    assert matter.status == "accepted" and matter.handler == org.users["eng_staff"]

    progress = page.locator("#handling details", has=page.locator("form[action$='/act/progress/']"))
    progress.evaluate("d => { d.open = true; }")  # first action after acceptance, already open
    page.fill("[name=progress-text]", "配件已到货，今天下午更换")
    page.locator("form[action$='/act/progress/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "配件已到货，今天下午更换" in page.content()
    head.screenshot("progress")

    # The submitter sees the progress on the page they follow.
    page = staff.goto(f"/matters/{matter.pk}/")
    assert "配件已到货，今天下午更换" in page.content()

    # 3. The coordinator finds it in the ledger.
    coordinator = journey("matters-ledger").login("coordinator")
    page = coordinator.goto("/matters/ledger/")
    assert reference in page.content()
    coordinator.screenshot("ledger")
