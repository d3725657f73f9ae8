"""People and organisation: users, the department tree and the roles that routing and notices use."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wagtail.search import index

mobile_validator = RegexValidator(r"^1\d{10}$", _("请输入 11 位手机号码，例如 13800138000。"))


class PortalUserManager(UserManager):
    def active(self):
        return self.filter(is_active=True)


class User(AbstractUser):
    """An employee. Logs in with username; shown by name (姓名), identified by 工号."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    employee_no = models.CharField(
        _("工号"), max_length=32, unique=True, null=True, blank=True, help_text=_("员工工号，唯一。")
    )
    mobile = models.CharField(_("手机"), max_length=11, blank=True, validators=[mobile_validator])
    department = models.ForeignKey(
        "portal.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    title = models.CharField(_("职务"), max_length=50, blank=True)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["department__sort_order", "employee_no", "username"]

    def __str__(self):
        return self.get_full_name()

    def get_full_name(self):
        return self.name or super().get_full_name() or self.username

    def get_short_name(self):
        return self.get_full_name()

    @property
    def display_with_department(self) -> str:
        if self.department_id:
            return f"{self.get_full_name()}（{self.department.name}）"
        return self.get_full_name()


class DepartmentKind(models.TextChoices):
    COMPANY = "company", _("公司")
    DEPARTMENT = "department", _("部门")
    SITE_OFFICE = "site_office", _("管理处")


class DepartmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def led_by(self, user):
        """Departments where the user is head, liaison or supervising leader."""
        return self.filter(Q(head=user) | Q(liaisons=user) | Q(supervising_leader=user)).distinct()


class Department(index.Indexed, models.Model):
    """A node of the organisation tree: the company, a department or a 管理处 (site office)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(
        _("简称"), max_length=20, blank=True, help_text=_("用于发文字号等处，例如“工程”。")
    )
    code = models.SlugField(_("代码"), max_length=50, unique=True, help_text=_("英文或拼音代码，例如 engineering。"))
    kind = models.CharField(_("类型"), max_length=20, choices=DepartmentKind.choices, default=DepartmentKind.DEPARTMENT)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        "portal.User",
        verbose_name=_("部门负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    liaisons = models.ManyToManyField(
        "portal.User", verbose_name=_("对接人"), blank=True, related_name="liaison_departments"
    )
    supervising_leader = models.ForeignKey(
        "portal.User",
        verbose_name=_("分管领导"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_departments",
    )
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = DepartmentQuerySet.as_manager()

    search_fields = [
        index.SearchField("name"),
        index.SearchField("short_name"),
        index.AutocompleteField("name"),
        index.FilterField("kind"),
        index.FilterField("is_active"),
    ]

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.parent_id is None:
            return
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("部门不能以自己为上级。")})
        if self.pk and self.parent_id in self.descendant_ids():
            raise ValidationError({"parent": _("不能把下级部门设为上级：这会形成循环。")})

    def ancestors(self) -> list[Department]:
        """From the root down to the parent; guards against a cycle already in the data."""
        chain, seen, node = [], {self.pk}, self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return list(reversed(chain))

    def descendant_ids(self) -> set[int]:
        """Ids of every department below this one (one query for the whole tree)."""
        return descendant_ids([self.pk]) - {self.pk}

    @property
    def path_label(self) -> str:
        return " / ".join([*(d.name for d in self.ancestors()), self.name])


def descendant_ids(root_ids) -> set[int]:
    """The given department ids and all departments below them, from one query."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    result, stack = set(), [pk for pk in root_ids if pk is not None]
    while stack:
        pk = stack.pop()
        if pk in result:
            continue
        result.add(pk)
        stack.extend(children.get(pk, []))
    return result


class Role(models.Model):
    """A named role. Structural roles (head, liaison, supervising leader) are derived from the
    department tree; assigned roles (协调岗, 总经理, ...) list their members here."""

    COORDINATOR = "coordinator"
    GENERAL_MANAGER = "general_manager"
    DEPARTMENT_HEAD = "department_head"
    LIAISON = "liaison"
    SUPERVISING_LEADER = "supervising_leader"
    STRUCTURAL = {DEPARTMENT_HEAD, LIAISON, SUPERVISING_LEADER}

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.TextField(_("说明"), blank=True)
    members = models.ManyToManyField("portal.User", verbose_name=_("成员"), blank=True, related_name="roles")

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_structural(self) -> bool:
        return self.code in self.STRUCTURAL

    def users(self):
        """Everyone who holds this role, structural or assigned."""
        return users_with_role(self.code)


def users_with_role(code: str):
    if code == Role.DEPARTMENT_HEAD:
        q = Q(headed_departments__isnull=False)
    elif code == Role.LIAISON:
        q = Q(liaison_departments__isnull=False)
    elif code == Role.SUPERVISING_LEADER:
        q = Q(supervised_departments__isnull=False)
    else:
        q = Q(roles__code=code)
    return User.objects.filter(q, is_active=True).distinct()
