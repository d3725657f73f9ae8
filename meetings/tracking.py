"""The bridge to matters: a published decision becomes a routed tracked matter.

Only ``matters.services.open_matter`` (kept stable by the matters owners) and the lifecycle's
``route_matter`` with an explicit routing decision are used, so the decision's responsible
department is the matter's lead department without going through the form rules.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from matters.services import open_matter


def open_decision_matter(decision, *, submitter):
    meeting = decision.meeting
    due = decision.due_date.isoformat()
    text = _("%(meeting)s（%(date)s）决议：%(text)s\n责任部门：%(dept)s；责任人：%(person)s；完成期限：%(due)s") % {
        "meeting": meeting.subject,
        "date": meeting.start.date().isoformat(),
        "text": decision.text,
        "dept": decision.responsible_department.name,
        "person": decision.responsible_person.get_full_name() if decision.responsible_person_id else "—",
        "due": due,
    }
    matter = open_matter(
        title=(_("会议决议：") + decision.text)[:200],
        submitter=submitter,
        submitter_department=meeting.organiser_department,
        reference_prefix="HY",
        text=text,
        data={"meeting": meeting.pk, "decision": decision.pk, "due_date": due},
        source="meeting",
    )
    try:
        from matters.lifecycle import route_matter
        from matters.routing import Decision as Routing
    except ImportError:  # matters restructured: the sweep routes unrouted matters by its rules
        return matter
    route_matter(
        matter,
        decision=Routing(
            rule_id=None,
            rule_name=str(_("会议决议")),
            version=0,
            lead_department_id=decision.responsible_department_id,
            cooperating_ids=[],
            copy_leader=False,
            copy_coordinator=False,
            grade="important",
            policy_id=None,
            reasons=[str(_("会议决议指定责任部门"))],
        ),
    )
    return matter
