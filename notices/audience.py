"""Who a notice is for, resolved as SQL: no loop over notices or people.

Two directions share the same rules:

* ``audience_q(user)``: which notices a person may see (everyone; a chosen department or any
  department above theirs; a role they hold, assigned or structural; themselves by name).
* ``audience_users(notice)``: which people a notice reaches, as one ``User`` queryset.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from portal.models import Department, Role, User


def _ancestors_sql() -> str:
    """Ids of a department and every department above it, by a recursive CTE (PostgreSQL and
    SQLite); UNION stops at a cycle should the data ever hold one."""
    table = connection.ops.quote_name(Department._meta.db_table)
    return (
        f"WITH RECURSIVE up(id, parent_id) AS ("  # noqa: S608 - the table name comes from the model
        f"SELECT id, parent_id FROM {table} WHERE id = %s "
        f"UNION SELECT d.id, d.parent_id FROM {table} d JOIN up ON d.id = up.parent_id"
        f") SELECT id FROM up"
    )


def roles_of(user):
    """Assigned roles plus the structural ones the department tree gives the person."""
    structural = (
        Q(code=Role.DEPARTMENT_HEAD) & Q(Exists(Department.objects.filter(head_id=user.pk)))
        | Q(code=Role.LIAISON) & Q(Exists(Department.liaisons.through.objects.filter(user_id=user.pk)))
        | Q(code=Role.SUPERVISING_LEADER) & Q(Exists(Department.objects.filter(supervising_leader_id=user.pk)))
    )
    return Role.objects.filter(Q(pk__in=Role.members.through.objects.filter(user_id=user.pk).values("role_id")) | structural)


def audience_q(user, prefix: str = "") -> Q:
    """A filter on NoticePage (or a relation to it, via ``prefix``) for what ``user`` may see.

    Pure SQL (subqueries and a recursive CTE for the department's ancestors): it adds no
    round trip to the query it filters, however many notices that query reads."""
    from .models import NoticePage

    pk = f"{prefix}pk" if prefix else "pk"
    q = Q(**{f"{prefix}audience_everyone": True}) | Q(
        **{f"{pk}__in": NoticePage.audience_people.through.objects.filter(user_id=user.pk).values("noticepage_id")}
    )
    if user.department_id:
        ancestors = RawSQL(_ancestors_sql(), [user.department_id])  # noqa: S611 - bound parameter
        q |= Q(
            **{
                f"{pk}__in": NoticePage.audience_departments.through.objects.filter(
                    department_id__in=ancestors
                ).values("noticepage_id")
            }
        )
    q |= Q(
        **{
            f"{pk}__in": NoticePage.audience_roles.through.objects.filter(
                role_id__in=roles_of(user).values("pk")
            ).values("noticepage_id")
        }
    )
    return q


def _descendants_sql(count: int) -> str:
    table = connection.ops.quote_name(Department._meta.db_table)
    marks = ", ".join(["%s"] * count)
    return (
        f"WITH RECURSIVE down(id) AS ("  # noqa: S608 - the table name comes from the model
        f"SELECT id FROM {table} WHERE id IN ({marks}) "
        f"UNION SELECT d.id FROM {table} d JOIN down ON d.parent_id = down.id"
        f") SELECT id FROM down"
    )


def audience_choices(notice) -> tuple[list[int], dict[int, str], list[int]]:
    """(department ids, {role id: code}, people ids) chosen for a notice, in one small query
    (plain SQL: the ORM's UNION of three annotated querysets costs more to build than to run);
    memoised on the notice object."""
    cached = getattr(notice, "_audience_choices", None)
    if cached is not None:
        return cached
    from .models import NoticePage

    qn = connection.ops.quote_name
    departments_table = qn(NoticePage.audience_departments.through._meta.db_table)
    roles_table = qn(NoticePage.audience_roles.through._meta.db_table)
    people_table = qn(NoticePage.audience_people.through._meta.db_table)
    role_table = qn(Role._meta.db_table)
    sql = (
        f"SELECT 'd', department_id, '' FROM {departments_table} WHERE noticepage_id = %s "  # noqa: S608
        f"UNION ALL SELECT 'r', r.id, r.code FROM {roles_table} x JOIN {role_table} r ON r.id = x.role_id "
        f"WHERE x.noticepage_id = %s "
        f"UNION ALL SELECT 'p', user_id, '' FROM {people_table} WHERE noticepage_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [notice.pk, notice.pk, notice.pk])
        found = cursor.fetchall()
    departments, roles, people = [], {}, []
    for k, pk, code in found:
        if k == "d":
            departments.append(pk)
        elif k == "r":
            roles[pk] = code
        else:
            people.append(pk)
    notice._audience_choices = (departments, roles, people)
    return notice._audience_choices


def audience_users(notice):
    """Active people a notice reaches, as one queryset: chosen people, everyone in the chosen
    departments and the departments below them (a recursive CTE inside the query), and the
    holders of the chosen roles. Reading the choices costs one query, once per notice object."""
    users = User.objects.filter(is_active=True)
    if notice.audience_everyone:
        return users
    department_ids, role_codes, people_ids = audience_choices(notice)
    q = Q(pk__in=people_ids) if people_ids else Q(pk__in=[])
    if department_ids:
        below = RawSQL(_descendants_sql(len(department_ids)), department_ids)  # noqa: S611 - bound parameters
        q |= Q(department_id__in=below)
    assigned = [pk for pk, code in role_codes.items() if code not in Role.STRUCTURAL]
    codes = set(role_codes.values())
    if assigned:
        q |= Q(pk__in=Role.members.through.objects.filter(role_id__in=assigned).values("user_id"))
    if Role.DEPARTMENT_HEAD in codes:
        q |= Q(Exists(Department.objects.filter(head_id=OuterRef("pk"))))
    if Role.LIAISON in codes:
        q |= Q(Exists(Department.liaisons.through.objects.filter(user_id=OuterRef("pk"))))
    if Role.SUPERVISING_LEADER in codes:
        q |= Q(Exists(Department.objects.filter(supervising_leader_id=OuterRef("pk"))))
    return users.filter(q)


def describe_audience(notice) -> str:
    """A short Chinese description, e.g. “工程部（含下级部门）、部门负责人、张三”."""
    if notice.audience_everyone:
        return "全体员工"
    parts = [f"{d.name}（含下级部门）" for d in notice.audience_departments.all()]
    parts += [r.name for r in notice.audience_roles.all()]
    parts += [u.get_full_name() for u in notice.audience_people.all()]
    return "、".join(parts) or "（未指定）"
