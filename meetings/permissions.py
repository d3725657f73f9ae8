"""Who may do what with one meeting, computed once per request (``MeetingPermissions``)."""

from __future__ import annotations

from functools import cached_property

from matters.models import is_coordinator, user_department_ids
from portal.models import Department

from .models import Meeting, MeetingStatus


def heads_and_liaisons(department_id) -> list:
    from matters.lifecycle import department_people

    return department_people(department_id)


def can_organise(user) -> bool:
    """Department heads and the coordinator may request meetings."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_coordinator(user) or Department.objects.filter(head=user).exists() or \
        Department.objects.filter(supervising_leader=user).exists()


class MeetingPermissions:
    def __init__(self, user, meeting: Meeting):
        self.user = user
        self.meeting = meeting

    @cached_property
    def coordinator(self) -> bool:
        return is_coordinator(self.user)

    @cached_property
    def can_view(self) -> bool:
        return Meeting.objects.visible_to(self.user).filter(pk=self.meeting.pk).exists()

    @cached_property
    def can_decide(self) -> bool:
        m = self.meeting
        return m.status == MeetingStatus.REQUESTED and (
            self.user.is_superuser or (m.approver_user_id and m.approver_user_id == self.user.pk)
            or (self.coordinator and m.type.approver == "coordinator")
        )

    @cached_property
    def can_manage(self) -> bool:
        """Organiser (the secretary of the meeting), the chair and the coordinator."""
        m = self.meeting
        return self.coordinator or self.user.pk in {m.organiser_id, m.chair_id}

    @cached_property
    def can_chair(self) -> bool:
        return self.user.is_superuser or self.user.pk == self.meeting.chair_id

    @cached_property
    def participant(self):
        return self.meeting.participants.filter(user=self.user).first()

    def can_sign_off(self, department_id) -> bool:
        return self.user.is_superuser or department_id in {
            d.pk for d in Department.objects.filter(pk=department_id).filter(head=self.user)
        } or self.user in heads_and_liaisons(department_id)

    @cached_property
    def department_ids(self) -> set[int]:
        return user_department_ids(self.user)
