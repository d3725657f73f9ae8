"""Browser journey: the administrator changes the portal without code. A field is added to the
故障转呈单 in Wagtail's page editor, a routing rule is changed in 分派与时限 → 分派规则 to send
security faults to 秩序部, and the next submission shows the field and follows the new rule."""

import pytest

from tests.browser import requires_chromium, seed_fault_form, submit_fault_report

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def _open_more_actions(page):
    page.locator("footer .w-dropdown__toggle").first.click()


def test_admin_adds_a_field_and_changes_a_rule_and_the_next_submission_follows(journey, org):
    from forms.models import FormPage, Submission
    from matters.models import Matter
    from matters.rule_models import RoutingRule

    form_page = seed_fault_form()
    rule = RoutingRule.objects.get(name="故障转呈单 → 工程部")
    version_before = rule.version

    admin = journey("admin").login("admin")

    # 1. A new dropdown field in the form's page editor, published.
    page = admin.goto(f"/admin/pages/{form_page.pk}/edit/")
    index = int(page.locator("#id_form_fields-TOTAL_FORMS").input_value())
    page.click("#id_form_fields-ADD")
    page.fill(f"#id_form_fields-{index}-label", "故障类别")
    page.select_option(f"#id_form_fields-{index}-field_type", "dropdown")
    page.fill(f"#id_form_fields-{index}-choices", "给排水\n供配电\n安防监控")
    page.locator(f"#id_form_fields-{index}-label").scroll_into_view_if_needed()
    admin.screenshot("form-field-added")
    _open_more_actions(page)
    page.click("button[name=action-publish]")
    page.wait_for_load_state("networkidle")
    assert "/edit/" not in page.url  # published: Wagtail returns to the page listing
    assert FormPage.objects.get(pk=form_page.pk).form_fields.filter(label="故障类别").exists()

    # 2. The rule “故障转呈单 → 工程部” now applies only to 安防监控 faults and goes to 秩序部.
    page = admin.goto("/admin/snippets/matters/routingrule/")
    admin.screenshot("rules")
    page.get_by_role("link", name=rule.name, exact=True).click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "故障转呈单：安防监控 → 秩序部")
    conditions = int(page.locator("#id_conditions-TOTAL_FORMS").input_value())
    page.click("#id_conditions-ADD")
    page.fill(f"#id_conditions-{conditions}-field_label", "故障类别")
    page.select_option(f"#id_conditions-{conditions}-operator", "eq")
    page.fill(f"#id_conditions-{conditions}-value", "安防监控")
    page.select_option("#id_lead_department", label="秩序部")
    admin.screenshot("rule-edit")
    page.click("footer button[type=submit]:has-text('保存')")
    page.wait_for_load_state("networkidle")
    assert "故障转呈单：安防监控 → 秩序部" in page.content()
    rule.refresh_from_db()
    assert rule.lead_department == org.depts["security"] and rule.version > version_before

    # 3. The next submission has the field and is routed by the changed rule.
    staff = journey("admin-submit").login("site_staff")
    page = staff.goto("/forms/guzhang-zhuancheng/")
    field = page.locator("select", has=page.locator("option", has_text="安防监控"))
    assert field.count() == 1
    name = field.get_attribute("name")
    field.scroll_into_view_if_needed()
    staff.screenshot("form-with-new-field")
    reference = submit_fault_report(staff, title="监控室硬盘录像机离线", extra_select={name: "安防监控"})
    staff.screenshot("landing")
    matter = Matter.objects.get(reference=reference)
    submission = Submission.objects.get(matter=matter)
    assert "安防监控" in str(submission.form_data.get(name))
    assert matter.lead_department == org.depts["security"]
    assert matter.routing_data["rule_name"] == "故障转呈单：安防监控 → 秩序部"

    page = staff.goto(f"/matters/{matter.pk}/")
    assert "故障类别" in page.content() and "安防监控" in page.content() and "秩序部" in page.content()
    staff.screenshot("matter")
