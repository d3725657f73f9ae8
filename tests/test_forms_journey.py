"""Browser journey (the issue's "done when"): a 管理处 employee submits the 故障转呈单 with a
photo, a double click makes one submission, the conditional field follows the answer, and the
submission is followed in 我的提交."""

import pytest

from tests.browser import requires_chromium

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
]


def test_employee_submits_fault_report_with_photo_and_follows_it(journey, org, tmp_path):
    from forms.demo import seed_forms
    from forms.models import Submission
    from forms.testing import png_bytes
    from matters.models import Matter

    seed_forms(lambda *a: None)
    photo = tmp_path / "现场.png"
    photo.write_bytes(png_bytes())
    j = journey("forms").login("site_staff")
    page = j.goto("/forms/")
    assert page.locator(".form-card").count() == 4
    j.screenshot("index")

    # The conditional field appears only for the answer that needs it.
    page = j.goto("/forms/wenti-fankui/")
    assert not page.locator("[name=tou_su_dan_hao]").is_visible()
    page.check("input[name=shi_fou_yi_zao_cheng_ye_zhu_tou_su][value='是']")
    assert page.locator("[name=tou_su_dan_hao]").is_visible()

    page = j.goto("/forms/guzhang-zhuancheng/")
    page.fill("[name=gu_zhang_biao_ti]", "消防泵异响")
    page.select_option("[name=suo_zai_guan_li_chu]", label="阳光花园管理处")
    page.fill("[name=gu_zhang_wei_zhi]", "B2 泵房")
    page.fill("[name=fa_sheng_shi_jian]", "2026-11-20T09:30")
    page.check("input[name=jin_ji_cheng_du][value=high]")
    page.fill("[name=gu_zhang_miao_shu]", "消防泵运行时异响")
    page.fill("[name=yi_cai_qu_cuo_shi]", "已停机检查")
    page.set_input_files("[name=xian_chang_zhao_pian]", str(photo))
    j.screenshot("filled")
    before = Submission.objects.count()
    page.dblclick("form.portal-form button[type=submit]")
    page.wait_for_selector("[data-reference]")
    reference = page.locator("[data-reference]").inner_text().strip()
    j.screenshot("landing")
    assert Submission.objects.count() == before + 1  # the double click made one submission
    matter = Matter.objects.get(reference=reference)
    assert reference.startswith("ZC-") and matter.urgency == "high"
    assert matter.attachments.get().original_name == "现场.png"

    page = j.goto("/matters/mine/")
    assert reference in page.content()
    page.click(f"text={reference}")
    page.wait_for_load_state("networkidle")
    assert "现场.png" in page.content() and "办理记录" in page.content()
    page.fill("[name=text]", "已联系工程部")
    page.click("text=发表留言")
    page.wait_for_load_state("networkidle")
    assert "已联系工程部" in page.content()
    j.screenshot("detail")
