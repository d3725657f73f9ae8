"""Admin for the organisation: departments (a tree), roles and the working-day calendar."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import AdminDateInput
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log

from portal.models import Department, Role, WorkDay


class DepartmentViewSet(ModelViewSet):
    model = Department
    icon = "group"
    menu_label = _("部门")
    add_to_admin_menu = False
    list_display = [
        Column("path_label", label=_("部门")),
        "short_name",
        "kind",
        "head",
        "supervising_leader",
        BooleanColumn("is_active", label=_("启用")),
    ]
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


class ImportYearForm(forms.Form):
    year = forms.IntegerField(
        label=_("年份"),
        min_value=2004,
        max_value=2100,
        error_messages={"invalid": _("请输入四位数年份，例如 2026。"), "required": _("请输入年份。")},
    )
    replace_company_days = forms.BooleanField(label=_("同时覆盖公司调整过的日期"), required=False)


def import_year_view(request):
    """Load a year from chinesecalendar; an unavailable year is explained and changes nothing."""
    from portal.services.calendar import CalendarUnavailable, import_workdays

    if not request.user.has_perm("portal.add_workday"):
        raise PermissionDenied
    form = ImportYearForm(request.POST or None, initial={"year": timezone.localdate().year + 1})
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        try:
            result = import_workdays(year, replace_company_days=form.cleaned_data["replace_company_days"])
        except CalendarUnavailable as exc:
            form.add_error("year", str(exc))
        else:
            log(instance=request.user, action="portal.import_workdays", user=request.user, data={"year": year})
            messages.success(
                request,
                _("已导入 %(year)s 年：新增 %(created)s 天，更新 %(updated)s 天，保留公司调整 %(kept)s 天。")
                % {"year": year, "created": result.created, "updated": result.updated, "kept": result.kept_company_days},
            )
            return redirect(reverse("workdays:index") + f"?date__year={year}")
    return TemplateResponse(request, "portal/admin/import_year.html", {"form": form, "page_title": _("导入工作日历")})


class WorkDayIndexView(generic.IndexView):
    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(_("从日历库导入年份"), url=reverse("workdays:import_year"), icon_name="download"),
        ]


class WorkDayViewSet(ModelViewSet):
    index_view_class = WorkDayIndexView
    add_view_class = WorkDayCreateView
    edit_view_class = WorkDayEditView
    model = WorkDay
    icon = "date"
    menu_label = _("工作日历")
    add_to_admin_menu = False
    list_display = [
        "date",
        Column("weekday_label", label=_("星期")),
        BooleanColumn("is_workday", label=_("工作日")),
        "name",
        "source",
        "note",
    ]
    list_filter = {"is_workday": ["exact"], "source": ["exact"], "date": ["year", "month"]}
    search_fields = ["name", "note"]
    ordering = ["date"]
    list_per_page = 62
    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("import/", import_year_view, name="import_year")]

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
