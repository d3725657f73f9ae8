"""Workflow signal receivers: thin, they hand over to letters.services / notifications."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.notifications.services import notify


def _letter_of(workflow_state):
    from .models import LetterPage

    obj = workflow_state.content_object
    specific = getattr(obj, "specific", obj)
    return specific if isinstance(specific, LetterPage) else None


def on_workflow_approved(sender, instance, user=None, **kwargs):
    """The last step (签发) approved and the page published: number and send the letter."""
    from .services import issue_letter

    letter = _letter_of(instance)
    if letter is None:
        return
    letter.refresh_from_db()
    issue_letter(letter, signer=user)


def task_reviewers(task, obj) -> list:
    from .models import DepartmentRoleTask

    task = task.specific
    if isinstance(task, DepartmentRoleTask):
        return task.reviewers(obj)
    groups = getattr(task, "groups", None)
    if groups is not None:
        from portal.models import User

        return list(User.objects.filter(groups__in=groups.all(), is_active=True).distinct())
    return []


def on_task_submitted(sender, instance, user=None, **kwargs):
    """A letter reached a review step: tell whoever can act on it."""
    from .services import KIND_REVIEW

    letter = _letter_of(instance.workflow_state)
    if letter is None:
        return
    notify(
        task_reviewers(instance.task, letter),
        kind=KIND_REVIEW,
        event_key=f"letter:{letter.pk}:task-state:{instance.pk}",
        title=_("函件待%(task)s：%(title)s") % {"task": instance.task.name, "title": letter.title},
        body=_("起草部门：%(dept)s。") % {"dept": letter.issuing_department.name},
        url=f"/admin/pages/{letter.pk}/edit/",
    )


def on_workflow_rejected(sender, instance, user=None, **kwargs):
    """退回修改: the drafter hears about it with the reviewer's comment."""
    from .services import KIND_REJECTED

    letter = _letter_of(instance)
    if letter is None:
        return
    state = instance.current_task_state
    comment = state.comment if state else ""
    notify(
        [letter.owner, instance.requested_by],
        kind=KIND_REJECTED,
        event_key=f"letter:{letter.pk}:rejected:{state.pk if state else 0}",
        title=_("函件被退回修改：%(title)s") % {"title": letter.title},
        body=_("%(user)s 的意见：%(comment)s") % {"user": user or "", "comment": comment or _("（无）")},
        url=f"/admin/pages/{letter.pk}/edit/",
    )


def connect():
    from wagtail.signals import task_submitted, workflow_approved, workflow_rejected

    workflow_approved.connect(on_workflow_approved, dispatch_uid="letters.workflow_approved")
    workflow_rejected.connect(on_workflow_rejected, dispatch_uid="letters.workflow_rejected")
    task_submitted.connect(on_task_submitted, dispatch_uid="letters.task_submitted")
