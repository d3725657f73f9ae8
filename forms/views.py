"""Admin views of submissions: the filtered list with export, and one submission's detail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.contrib.forms.utils import get_forms_for_user
from wagtail.contrib.forms.views import SubmissionsListView

from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter

from matters.models import MatterEvent, MatterStatus, Urgency
from portal.models import Department

from .models import FormField, Submission

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SubmissionFilterSet(WagtailFilterSet):
    status = ChoiceFilter(label=_("状态"), field_name="matter__status", choices=MatterStatus.choices)
    department = ModelChoiceFilter(
        label=_("提交部门"),
        field_name="matter__submitter_department",
        queryset=Department.objects.all(),
    )
    lead_department = ModelChoiceFilter(
        label=_("牵头部门"),
        field_name="matter__lead_department",
        queryset=Department.objects.all(),
    )
    urgency = ChoiceFilter(label=_("紧急程度"), field_name="matter__urgency", choices=Urgency.choices)
    date = DateFromToRangeFilter(label=_("提交日期"), field_name="submit_time", widget=DateRangePickerWidget)

    class Meta:
        model = Submission
        fields = []


class PortalSubmissionsListView(SubmissionsListView):
    """Wagtail's list with reference numbers, status columns, filters and a detail link.

    Query count does not grow with the rows: the matter, submitter and departments are joined,
    the form's fields are read once and values come from the stored JSON.
    """

    filterset_class = SubmissionFilterSet
    results_template_name = "forms/admin/list_submissions.html"
    orderable_fields = ("id", "submit_time")

    def get_base_queryset(self):
        return self.form_page.get_submissions().select_related(
            "matter", "matter__submitter_department", "user"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.is_export:
            for row in context.get("data_rows", []):
                row["detail_url"] = reverse("forms_admin:submission", args=[row["model_id"]])
        return context

    def to_row_dict(self, item):
        item._page_fields = self.page_fields
        return super().to_row_dict(item)

    @property
    def page_fields(self):
        if not hasattr(self, "_page_fields"):
            self._page_fields = list(self.form_page.get_form_fields())
        return self._page_fields

    def get_filename(self):
        return f"{self.form_page.slug}-{self.form_page.reference_prefix}-submissions"

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        # Spreadsheet programs run a cell starting with "=" as a formula: keep it text.
        if export_format == self.FORMAT_CSV and isinstance(value, str) and value.startswith(FORMULA_START):
            value = "'" + value
        return value

    def stream_csv(self, queryset):
        # A byte-order mark so that Excel opens the Chinese text as UTF-8.
        yield "\ufeff"
        yield from super().stream_csv(queryset)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        for submission in object_list:  # evaluates the page once; the template reuses it
            submission._page_fields = self.page_fields
        return paginator, page, object_list, is_paginated


class SubmissionDetailView(TemplateView):
    template_name = "forms/admin/submission_detail.html"

    def dispatch(self, request, pk):
        self.submission = get_object_or_404(
            Submission.objects.select_related(
                "matter", "matter__submitter_department", "matter__lead_department", "matter__handler", "user"
            ),
            pk=pk,
        )
        if not get_forms_for_user(request.user).filter(pk=self.submission.page_id).exists():
            raise PermissionDenied
        return super().dispatch(request, pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        submission = self.submission
        page = submission.page.specific
        fields = list(FormField.objects.filter(page_id=page.pk))
        context.update(
            {
                "submission": submission,
                "matter": submission.matter,
                "form_page": page,
                "rows": submission.display_rows(fields),
                "events": MatterEvent.objects.filter(matter=submission.matter).select_related("actor"),
                "attachments": submission.matter.attachments.select_related("uploaded_by"),
                "list_url": reverse("wagtailforms:list_submissions", args=[page.pk]),
                "header_title": submission.matter.reference,
            }
        )
        return context
