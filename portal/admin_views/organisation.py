"""Admin for the organisation: departments (a tree), roles and the working-day calendar."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import AdminDateInput

from portal.models import Department, Role, WorkDay


class DepartmentViewSet(ModelViewSet):
    model = Department
    icon = "group"
    menu_label = _("部门")
    add_to_admin_menu = False
    list_display = ["path_label", "short_name", "kind", "head", "supervising_leader", BooleanColumn("is_active")]
    list_filter = ["kind", "is_active", "parent"]
    search_fields = ["name", "short_name", "code"]
    ordering = ["sort_order", "name"]
    list_per_page = 100
    panels = [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("name"), FieldPanel("short_name")]),
                FieldRowPanel([FieldPanel("code"), FieldPanel("kind")]),
                FieldPanel("parent"),
            ],
            heading=_("基本信息"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("head"),
                FieldPanel("liaisons", widget=forms.SelectMultiple(attrs={"size": 8})),
                FieldPanel("supervising_leader"),
            ],
            heading=_("负责人与对接人"),
        ),
        FieldRowPanel([FieldPanel("phone"), FieldPanel("sort_order"), FieldPanel("is_active")]),
    ]

    def get_queryset(self, request):
        return Department.objects.select_related("parent", "head", "supervising_leader")


class RoleViewSet(ModelViewSet):
    model = Role
    icon = "tag"
    menu_label = _("角色")
    add_to_admin_menu = False
    list_display = ["name", "code", Column("member_count", label=_("成员数"), accessor=lambda r: r.members.count())]
    search_fields = ["name", "code"]
    panels = [
        FieldPanel("name"),
        FieldPanel("code"),
        FieldPanel("description"),
        FieldPanel(
            "members",
            widget=forms.SelectMultiple(attrs={"size": 12}),
            help_text=_("部门负责人、对接人、分管领导由部门设置决定，无需在此添加成员。"),
        ),
    ]


class _SaveThroughService:
    """Admin edits of a day are company adjustments: recorded with the editor, and they trigger
    recomputation of what depends on the calendar."""

    def save_instance(self):
        from portal.services.calendar import set_workday

        data = self.form.cleaned_data
        return set_workday(
            data["date"], is_workday=data["is_workday"], name=data["name"], note=data["note"], user=self.request.user
        )


class WorkDayCreateView(_SaveThroughService, generic.CreateView):
    pass


class WorkDayEditView(_SaveThroughService, generic.EditView):
    pass


class WorkDayViewSet(ModelViewSet):
    add_view_class = WorkDayCreateView
    edit_view_class = WorkDayEditView
    model = WorkDay
    icon = "date"
    menu_label = _("工作日历")
    add_to_admin_menu = False
    list_display = ["date", "weekday_label", BooleanColumn("is_workday"), "name", "source", "note"]
    list_filter = {"is_workday": ["exact"], "source": ["exact"], "date": ["year", "month"]}
    search_fields = ["name", "note"]
    ordering = ["date"]
    list_per_page = 62
    panels = [
        FieldPanel("date", widget=AdminDateInput),
        FieldPanel("is_workday"),
        FieldPanel("name"),
        FieldPanel("note"),
    ]


class OrganisationGroup(ViewSetGroup):
    menu_label = _("组织机构")
    menu_icon = "group"
    menu_order = 250
    items = (DepartmentViewSet("departments"), RoleViewSet("roles"), WorkDayViewSet("workdays"))
