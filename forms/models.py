"""Form pages: editors build 需求单 / 反馈单 / 联系单 / 转呈单 in the page editor; every submission
is numbered and opens a tracked matter (``matters.Matter``)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import IntegrityError, models, transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.forms import WagtailAdminFormPageForm
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField, AbstractFormSubmission
from wagtail.contrib.forms.panels import FormSubmissionsPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from modelcluster.fields import ParentalKey

from matters import services as matter_services
from matters.models import Matter, Urgency
from matters.references import DEFAULT_PATTERN, validate_pattern
from matters.uploads import DEFAULT_ALLOWED, parse_types

from .fields import FIELD_TYPE_CHOICES, PortalFormBuilder, display, to_json
from .keys import make_key, validate_key

TEXT_TYPES = ("singleline", "multiline")


class FormIndexPage(Page):
    """表单: lists the live form pages below it."""

    intro = RichTextField(_("说明"), blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["forms.FormPage"]

    class Meta:
        verbose_name = _("表单目录")
        verbose_name_plural = _("表单目录")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["form_pages"] = FormPage.objects.child_of(self).live().order_by("path")
        return context


class FormField(AbstractFormField):
    page = ParentalKey("FormPage", on_delete=models.CASCADE, related_name="form_fields")
    clean_name = models.CharField(
        _("字段键"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("导出与数据中使用的英文键。留空则按标签的拼音自动生成；保存后不再改变，改标签也不会变。"),
    )
    field_type = models.CharField(_("字段类型"), max_length=16, choices=FIELD_TYPE_CHOICES)
    field_type.required_on_save = True
    max_files = models.PositiveSmallIntegerField(_("最多文件数"), default=5, help_text=_("仅附件字段。"))
    max_file_size_mb = models.PositiveSmallIntegerField(_("每个文件最大（MB）"), default=10, help_text=_("仅附件字段。"))
    allowed_file_types = models.CharField(
        _("允许的文件类型"),
        max_length=255,
        blank=True,
        default=DEFAULT_ALLOWED,
        help_text=_("扩展名，逗号分隔，例如 pdf,jpg,png,docx,xlsx。按文件内容检查，改扩展名无效。"),
    )
    condition_field = models.CharField(
        _("显示条件：字段键"),
        max_length=255,
        blank=True,
        help_text=_("填写另一字段的字段键，则仅当该字段取下面的值时才显示并校验本字段。"),
    )
    condition_value = models.CharField(
        _("显示条件：取值"),
        max_length=255,
        blank=True,
        help_text=_("一个或多个值，用逗号或 | 分隔；留空表示“该字段有任何值时显示”。"),
    )

    panels = [
        FieldRowPanel([FieldPanel("label"), FieldPanel("clean_name")]),
        FieldPanel("help_text"),
        FieldPanel("required"),
        FieldPanel("field_type", classname="formbuilder-type", required_on_save=True),
        FieldPanel("choices", classname="formbuilder-choices"),
        FieldPanel("default_value", classname="formbuilder-default"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("max_files"), FieldPanel("max_file_size_mb")]), FieldPanel("allowed_file_types")],
            heading=_("附件限制"),
            classname="collapsed",
        ),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("condition_field"), FieldPanel("condition_value")])],
            heading=_("条件显示"),
            classname="collapsed",
        ),
    ]

    class Meta(AbstractFormField.Meta):
        verbose_name = _("表单字段")
        verbose_name_plural = _("表单字段")

    def get_field_clean_name(self):
        return make_key(self.label)

    def save(self, *args, **kwargs):
        # The key is fixed once stored: renaming the label (or editing the key) keeps old data
        # and exports readable under the same column.
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("clean_name", flat=True).first()
            if stored:
                self.clean_name = stored
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.clean_name:
            validate_key(self.clean_name)
        if self.field_type == "attachments":
            if not parse_types(self.allowed_file_types or DEFAULT_ALLOWED):
                raise ValidationError({"allowed_file_types": _("请至少填写一种文件类型。")})
            if not 1 <= (self.max_files or 0) <= 20:
                raise ValidationError({"max_files": _("最多文件数应在 1 到 20 之间。")})
            if not 1 <= (self.max_file_size_mb or 0) <= 100:
                raise ValidationError({"max_file_size_mb": _("每个文件最大应在 1 到 100 MB 之间。")})
        if self.field_type in {"dropdown", "radio", "checkboxes", "multiselect"} and not self.choices.strip():
            raise ValidationError({"choices": _("请填写选项。")})


class FormPageAdminForm(WagtailAdminFormPageForm):
    """Checks keys (format, uniqueness, unchanged once saved) and conditions across fields."""

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("form_fields")
        if formset is None:
            return cleaned
        keys = {}
        live_forms = [f for f in formset.forms if f.is_valid() and not f.cleaned_data.get("DELETE")]
        for form in live_forms:
            instance = form.instance
            if instance.pk and "clean_name" in form.changed_data and form.initial.get("clean_name"):
                form.add_error("clean_name", _g("字段键保存后不能修改（已有数据使用它）。"))
                continue
            key = instance.clean_name or instance.get_field_clean_name()
            keys[key] = form
        for form in live_forms:
            controller = (form.cleaned_data.get("condition_field") or "").strip()
            own = form.instance.clean_name or form.instance.get_field_clean_name()
            if controller and controller not in keys:
                form.add_error("condition_field", _g("没有字段键为“%s”的字段。") % controller)
            elif controller and controller == own:
                form.add_error("condition_field", _g("字段不能以自己为显示条件。"))
        return cleaned


prefix_validator = RegexValidator(r"^[A-Za-z0-9]{1,10}$", _("前缀只能是 1-10 个字母或数字，例如 XQ。"))


class Submission(AbstractFormSubmission):
    """A form submission: the answers as JSON, linked one-to-one to its matter."""

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    form_data = models.JSONField(encoder=DjangoJSONEncoder)
    matter = models.OneToOneField(Matter, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="form_submission")
    user = models.ForeignKey(
        "portal.User", verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="form_submissions"
    )
    form_token = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("表单提交")
        verbose_name_plural = _("表单提交")
        ordering = ["-submit_time", "-pk"]
        indexes = [models.Index(fields=["page", "user", "-submit_time"])]

    def __str__(self):
        return self.matter.reference

    def get_data(self):
        """Plain-text values keyed like ``FormPage.get_data_fields()`` (lists and exports)."""
        types = self.page_field_types
        data = {key: display(types.get(key, ""), value) for key, value in self.form_data.items()}
        matter = self.matter
        data.update(
            {
                "reference": matter.reference,
                "submit_time": timezone.localtime(self.submit_time).strftime("%Y-%m-%d %H:%M"),
                "submitter": self.user.get_full_name(),
                "department": matter.submitter_department.name if matter.submitter_department_id else "",
                "status": matter.get_status_display(),
                "urgency_level": matter.get_urgency_display(),
            }
        )
        return data

    @cached_property
    def page_field_types(self) -> dict[str, str]:
        fields = getattr(self, "_page_fields", None)
        if fields is None:
            fields = list(FormField.objects.filter(page_id=self.page_id))
        return {f.clean_name: f.field_type for f in fields}

    def display_rows(self, fields=None) -> list[dict]:
        """Label, type and value of each answer in the form's current order; answers to fields
        deleted since are shown last under their key."""
        fields = fields if fields is not None else list(FormField.objects.filter(page_id=self.page_id))
        rows, seen = [], set()
        for field in fields:
            seen.add(field.clean_name)
            if field.field_type == "section":
                rows.append({"label": field.label, "type": "section", "help": field.help_text})
                continue
            if field.clean_name not in self.form_data:
                continue
            value = self.form_data[field.clean_name]
            rows.append(
                {
                    "label": field.label,
                    "type": field.field_type,
                    "value": display(field.field_type, value),
                    "files": value if field.field_type == "attachments" and isinstance(value, list) else [],
                }
            )
        for key, value in self.form_data.items():
            if key not in seen:
                rows.append({"label": key, "type": "", "value": display("", value), "files": []})
        # Drop section headings with nothing under them.
        result = []
        for i, row in enumerate(rows):
            if row["type"] == "section" and (i + 1 == len(rows) or rows[i + 1]["type"] == "section"):
                continue
            result.append(row)
        return result


class FormPage(AbstractEmailForm):
    """An editable form whose submissions are numbered, tracked matters."""

    intro = RichTextField(_("填写说明"), blank=True)
    thank_you_text = RichTextField(_("提交成功提示"), blank=True)
    reference_prefix = models.CharField(
        _("编号前缀"), max_length=10, default="BD", validators=[prefix_validator], help_text=_("例如 XQ、FK、LX、ZC。")
    )
    reference_pattern = models.CharField(
        _("编号格式"),
        max_length=60,
        default=DEFAULT_PATTERN,
        validators=[validate_pattern],
        help_text=_(
            "占位符：{prefix} 前缀，{year} 年，{yy} 两位年，{month} 月，{day} 日，{seq:4} 四位序号（必须有）。"
            "例如 {prefix}-{year}-{seq:4} 生成 XQ-2026-0001。含 {year} 时每年从 1 重新编号。"
        ),
    )
    title_field = models.CharField(
        _("标题字段键"),
        max_length=255,
        blank=True,
        help_text=_("用哪个字段的内容作为事项标题；留空则用第一个文本字段。"),
    )
    rate_limit_count = models.PositiveSmallIntegerField(
        _("限制次数"), default=10, help_text=_("同一人在下面的时间内最多提交几次；0 表示不限制。")
    )
    rate_limit_minutes = models.PositiveSmallIntegerField(_("限制时间（分钟）"), default=60)

    form_builder = PortalFormBuilder
    base_form_class = FormPageAdminForm
    parent_page_types = ["forms.FormIndexPage"]
    subpage_types: list = []

    content_panels = [
        *AbstractEmailForm.content_panels,
        FormSubmissionsPanel(),
        FieldPanel("intro"),
        InlinePanel("form_fields", label=_("表单字段")),
        FieldPanel("thank_you_text"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("reference_prefix"), FieldPanel("reference_pattern")]), FieldPanel("title_field")],
            heading=_("编号与标题"),
        ),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("rate_limit_count"), FieldPanel("rate_limit_minutes")])],
            heading=_("防刷：提交频率限制"),
            classname="collapsed",
        ),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("from_address"), FieldPanel("to_address")]), FieldPanel("subject")],
            heading=_("邮件通知（可选）"),
            classname="collapsed",
        ),
    ]

    class Meta:
        verbose_name = _("表单")
        verbose_name_plural = _("表单")

    # -- Wagtail's extension points -----------------------------------------------------------
    def get_submission_class(self):
        return Submission

    def get_submissions(self):
        return Submission.objects.filter(page=self)

    def get_submissions_list_view_class(self):
        from .views import PortalSubmissionsListView

        return PortalSubmissionsListView

    @cached_property
    def cached_form_fields(self) -> list[FormField]:
        return list(self.form_fields.all())

    def get_form_fields(self):
        # In a preview the fields are unsaved; otherwise one query per request.
        if self.pk is None or getattr(self, "_in_preview", False):
            return self.form_fields.all()
        return self.cached_form_fields

    def get_data_fields(self):
        fields = [
            ("reference", _g("编号")),
            ("submit_time", _g("提交时间")),
            ("submitter", _g("提交人")),
            ("department", _g("提交部门")),
            ("status", _g("状态")),
        ]
        form_fields = [f for f in self.get_form_fields() if f.field_type != "section"]
        # The matter's urgency comes from the form's urgency field when there is one.
        if not any(f.field_type == "urgency" for f in form_fields):
            fields.append(("urgency_level", _g("紧急程度")))
        fields += [(f.clean_name, f.label) for f in form_fields]
        return fields

    def serve_preview(self, request, mode_name):
        self._in_preview = True
        return super().serve_preview(request, mode_name)

    def get_form(self, *args, **kwargs):
        form = super().get_form(*args, **kwargs)
        return form

    def rate_limit_message(self, user) -> str | None:
        if not self.rate_limit_count:
            return None
        since = timezone.now() - timedelta(minutes=self.rate_limit_minutes or 1)
        recent = list(
            Submission.objects.filter(page=self, user=user, submit_time__gte=since)
            .order_by("-submit_time")
            .values_list("submit_time", flat=True)[: self.rate_limit_count]
        )
        if len(recent) < self.rate_limit_count:
            return None
        wait = recent[-1] + timedelta(minutes=self.rate_limit_minutes or 1) - timezone.now()
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        return _g("您在 %(window)d 分钟内已提交 %(count)d 次，已达上限。请 %(wait)d 分钟后再提交；如有紧急情况请直接联系相关部门。") % {
            "window": self.rate_limit_minutes,
            "count": self.rate_limit_count,
            "wait": minutes,
        }

    def serve(self, request, *args, **kwargs):
        user = request.user
        context = self.get_context(request)
        if not user.department_id and not user.is_superuser:
            context["no_department"] = True
            return TemplateResponse(request, self.get_template(request), context)
        if request.method == "POST":
            form = self.get_form(request.POST, request.FILES, page=self, user=user)
            if form.is_valid():
                message = self.rate_limit_message(user)
                if message:
                    existing = self.find_submission(form.cleaned_data["form_token"], user)
                    if existing is not None:  # a refresh of the last allowed submission
                        request.form_already_submitted = True
                        return self.render_landing_page(request, existing, *args, **kwargs)
                    form.add_error(None, message)
                    context["form"] = form
                    return TemplateResponse(request, self.get_template(request), context, status=429)
                try:
                    submission = self.process_form_submission(form)
                except IntegrityError:
                    # The token is unique: a second click, a refresh or the back button (or a
                    # parallel request that committed first) lands on the first submission.
                    existing = self.find_submission(form.cleaned_data["form_token"], user)
                    if existing is None:
                        # Another unique value clashed: two forms whose number formats can
                        # produce the same reference. Nothing was saved; say so plainly.
                        form.add_error(None, _g("编号生成冲突，未能提交。请稍后重试；如反复出现，请联系管理员检查本表单的编号格式。"))
                        context["form"] = form
                        return TemplateResponse(request, self.get_template(request), context, status=409)
                    submission = existing
                    request.form_already_submitted = True
                return self.render_landing_page(request, submission, *args, **kwargs)
        else:
            form = self.get_form(page=self, user=user)
        context["form"] = form
        return TemplateResponse(request, self.get_template(request), context)

    def find_submission(self, token: str, user) -> Submission | None:
        return Submission.objects.select_related("matter").filter(form_token=token, user=user, page=self).first()

    def matter_title(self, cleaned: dict) -> str:
        fields = self.get_form_fields()
        candidates = [self.title_field] if self.title_field else []
        candidates += [f.clean_name for f in fields if f.field_type in TEXT_TYPES]
        for key in candidates:
            value = cleaned.get(key)
            if isinstance(value, str) and value.strip():
                return re.sub(r"\s+", " ", value.strip())[:100]
        return self.title

    def process_form_submission(self, form):
        """Number the submission, open its matter, store the files, all in one transaction."""
        user = form.user
        cleaned = form.cleaned_data
        fields = {f.clean_name: f for f in self.get_form_fields()}
        urgency = next(
            (cleaned[k] for k, f in fields.items() if f.field_type == "urgency" and cleaned.get(k) in Urgency.values),
            Urgency.MEDIUM,
        )
        with matter_services.files_removed_on_error(), transaction.atomic():
            matter = matter_services.open_matter(
                title=self.matter_title(cleaned),
                submitter=user,
                reference_pattern=self.reference_pattern,
                reference_prefix=self.reference_prefix,
                source_page=self,
                urgency=urgency,
                source="form",
                data={"form": self.title},
            )
            data = {}
            for key, field in fields.items():
                if key not in cleaned or field.field_type == "section":
                    continue
                if field.field_type == "attachments":
                    stored = [
                        matter_services.store_attachment(
                            matter, upload, uploaded_by=user, content_type=checked.content_type, field_key=key
                        )
                        for upload, checked in cleaned[key]
                    ]
                    data[key] = [{"id": a.pk, "name": a.original_name, "size": a.size} for a in stored]
                else:
                    data[key] = to_json(field.field_type, cleaned[key])
            submission = Submission.objects.create(
                page=self, form_data=data, matter=matter, user=user, form_token=cleaned["form_token"]
            )
        if self.to_address:
            transaction.on_commit(lambda: self.send_mail(form))
        return submission

    def render_email(self, form):
        lines = []
        for key, label in self.get_data_fields():
            field = next((f for f in self.get_form_fields() if f.clean_name == key), None)
            if field is None or key not in form.cleaned_data:
                continue
            value = form.cleaned_data[key]
            if field.field_type == "attachments":
                value = "、".join(upload.name for upload, _checked in value)
            else:
                value = display(field.field_type, to_json(field.field_type, value))
            lines.append(f"{label}: {value}")
        return "\n".join(lines)

    def render_landing_page(self, request, form_submission=None, *args, **kwargs):
        context = self.get_context(request)
        context["form_submission"] = form_submission
        context["matter"] = form_submission.matter if form_submission else None
        context["already_submitted"] = getattr(request, "form_already_submitted", False)
        return TemplateResponse(request, self.get_landing_page_template(request), context)
