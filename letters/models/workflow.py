"""A workflow task whose reviewer follows the letter: the issuing department's head or 分管领导."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from wagtail.models import Page, Task, TaskState


class DepartmentRole(models.TextChoices):
    HEAD = "head", _("发文部门负责人（审核）")
    SUPERVISING_LEADER = "supervising_leader", _("发文部门分管领导（签发）")


class DepartmentRoleTask(Task):
    """Approved only by the holder of a role in the letter's issuing department (or a named deputy).

    Administrators add it to any workflow in 设置 → 工作流, so the chain (审核 → 核稿 → 签发) changes
    without code; a GroupApprovalTask can sit between the two for a 核稿 step.
    """

    role = models.CharField(_("审批人"), max_length=30, choices=DepartmentRole.choices, default=DepartmentRole.HEAD)
    deputies = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代理审批人"),
        blank=True,
        related_name="+",
        help_text=_("可选：该职务空缺或出差时，也可由这些人审批。"),
    )

    admin_form_fields = [*Task.admin_form_fields, "role", "deputies"]

    class Meta:
        verbose_name = _("部门职务审批")
        verbose_name_plural = _("部门职务审批")

    @classmethod
    def get_description(cls):
        return _("由函件发文部门的负责人或分管领导审批（按函件自动确定审批人）")

    @property
    def is_signing(self) -> bool:
        return self.role == DepartmentRole.SUPERVISING_LEADER

    def role_holder_id(self, obj) -> int | None:
        department = getattr(getattr(obj, "specific", obj), "issuing_department", None)
        if department is None:
            return None
        return department.head_id if self.role == DepartmentRole.HEAD else department.supervising_leader_id

    def reviewers(self, obj) -> list:
        """The people who may act on this step for ``obj``."""
        from portal.models import User

        ids = set(self.deputies.values_list("pk", flat=True))
        holder = self.role_holder_id(obj)
        if holder:
            ids.add(holder)
        return list(User.objects.filter(pk__in=ids, is_active=True))

    def is_reviewer(self, obj, user) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        if self.role_holder_id(obj) == user.pk:
            return True
        return self.deputies.filter(pk=user.pk).exists()

    def user_can_access_editor(self, obj, user):
        return self.is_reviewer(obj, user)

    def locked_for_user(self, obj, user):
        return not self.is_reviewer(obj, user)

    def user_can_lock(self, obj, user):
        return self.is_reviewer(obj, user)

    def get_actions(self, obj, user):
        if not self.is_reviewer(obj, user):
            return []
        approve = _("签发") if self.is_signing else _("审核通过")
        return [
            ("reject", _("退回修改"), True),
            ("approve", approve, False),
            ("approve", _("%(action)s（附意见）") % {"action": approve}, True),
        ]

    @transaction.atomic
    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve":
            # Approving the last step publishes the page and indexes it for search; on PostgreSQL
            # two such transactions deadlock in the search index's title-norm refresh. Taking the
            # letter index's row lock first makes letter approvals queue instead.
            obj = task_state.workflow_state.content_object
            parent_path = obj.path[: -Page.steplen]
            list(Page.objects.select_for_update().filter(path=parent_path).values_list("pk", flat=True))
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        from .pages import LetterPage

        if not user.is_authenticated:
            return TaskState.objects.none()
        field = "issuing_department__head" if self.role == DepartmentRole.HEAD else "issuing_department__supervising_leader"
        if self.deputies.filter(pk=user.pk).exists():
            return self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        letter_ids = [str(pk) for pk in LetterPage.objects.filter(**{field: user}).values_list("pk", flat=True)]
        return self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS, workflow_state__object_id__in=letter_ids)
