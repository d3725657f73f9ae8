"""Wagtail's user admin with 工号, 姓名, 手机 and 部门, searchable and filterable."""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from wagtail.admin.ui.tables import Column
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views import users as wagtail_users

import django_filters

from portal.models import Department, User

PORTAL_FIELDS = ("name", "employee_no", "mobile", "department", "title")


class PortalUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | set(PORTAL_FIELDS)


class PortalUserEditForm(UserEditForm):
    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | set(PORTAL_FIELDS)


class PortalUserFilterSet(wagtail_users.UserFilterSet):
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("所属部门"), field_name="department"
    )
    no_department = django_filters.BooleanFilter(
        field_name="department", lookup_expr="isnull", label=_("未分配部门"), widget=forms.NullBooleanSelect
    )

    class Meta(wagtail_users.UserFilterSet.Meta):
        model = User


class PortalUserIndexView(wagtail_users.IndexView):
    @cached_property
    def search_fields(self):
        return ["username", "name", "employee_no", "mobile", "email"]

    @cached_property
    def columns(self):
        columns = list(super().columns)
        columns.insert(2, Column("employee_no", label=_("工号"), sort_key="employee_no", width="10%"))
        columns.insert(3, Column("department", label=_("所属部门"), sort_key="department__name", width="15%"))
        return columns

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("department")


class PortalUserViewSet(wagtail_users.UserViewSet):
    index_view_class = PortalUserIndexView
    filterset_class = PortalUserFilterSet

    def get_form_class(self, for_update=False):
        return PortalUserEditForm if for_update else PortalUserCreationForm
