"""Platform models: people and organisation, and the working-day calendar."""

from .calendar import WorkDay, WorkDaySource
from .people import Department, DepartmentKind, Role, User

__all__ = ["Department", "DepartmentKind", "Role", "User", "WorkDay", "WorkDaySource"]
