"""Field types beyond Wagtail's form builder, the form base class (conditional fields, the
one-time token) and how each type's value is stored (JSON-safe) and shown."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from wagtail.contrib.forms.forms import BaseForm, FormBuilder, _split_by_newline_or_comma
from wagtail.contrib.forms.models import FORM_FIELD_CHOICES

from matters.models import Urgency
from matters.uploads import DEFAULT_ALLOWED, check_upload, parse_types
from portal.models import Department, User

FIELD_TYPE_CHOICES = (
    *FORM_FIELD_CHOICES,
    ("department", _("部门（单选）")),
    ("departments", _("部门（多选）")),
    ("person", _("人员")),
    ("attachments", _("附件")),
    ("urgency", _("紧急程度（高/中/低）")),
    ("section", _("分节标题/说明")),
)
TOKEN_SALT = "forms.submission-token"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 24 * 3600
TRUE_WORDS = {"是", "true", "1", "on", "yes", "勾选", "选中"}

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files; each checked by size, count and content type. Cleans to a list of
    ``(upload, CheckedFile)``."""

    widget = MultipleFileInput

    def __init__(self, *, max_files=5, max_mb=10, allowed_types=DEFAULT_ALLOWED, **kwargs):
        self.max_files, self.max_mb = max_files, max_mb
        self.allowed = parse_types(allowed_types or DEFAULT_ALLOWED)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(f".{t}" for t in sorted(self.allowed))}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(_("请上传附件。"), code="required")
            return []
        if len(files) > self.max_files:
            raise ValidationError(_("最多上传 %(n)d 个文件。") % {"n": self.max_files})
        errors, checked = [], []
        for upload in files:
            if not hasattr(upload, "size") or not hasattr(upload, "read"):
                errors.append(ValidationError(_("上传的内容不是文件。")))
                continue
            try:
                checked.append((upload, check_upload(upload, allowed=self.allowed, max_bytes=self.max_mb * 1024 * 1024)))
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return checked


class SectionWidget(forms.Widget):
    def render(self, name, value, attrs=None, renderer=None):
        return ""

    def value_from_datadict(self, data, files, name):
        return None


class SectionField(forms.Field):
    """A heading with help text between fields; holds no value."""

    is_section = True
    widget = SectionWidget

    def __init__(self, **kwargs):
        kwargs["required"] = False
        super().__init__(**kwargs)

    def clean(self, value):
        return None


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class DepartmentsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_with_department


class PortalFormBuilder(FormBuilder):
    """Wagtail's builder plus our types; Chinese messages, HTML5 date inputs."""

    def get_field_options(self, field):
        options = super().get_field_options(field)
        if field.required:
            options["error_messages"] = {"required": _("请填写“%s”。") % field.label}
        return options

    def create_singleline_field(self, field, options):
        options["max_length"] = 255
        options["error_messages"] = {
            **options.get("error_messages", {}),
            "max_length": _("最多 255 个字。"),
        }
        return forms.CharField(**options)

    def create_multiline_field(self, field, options):
        options["max_length"] = 10000
        options.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        return forms.CharField(**options)

    def create_number_field(self, field, options):
        options["error_messages"] = {**options.get("error_messages", {}), "invalid": _("请输入数字。")}
        options.setdefault("max_digits", 20)
        options.setdefault("decimal_places", 6)
        return forms.DecimalField(**options)

    def create_email_field(self, field, options):
        options["error_messages"] = {**options.get("error_messages", {}), "invalid": _("请输入有效的电子邮箱。")}
        return forms.EmailField(**options)

    def create_date_field(self, field, options):
        options["error_messages"] = {
            **options.get("error_messages", {}),
            "invalid": _("日期格式不对，请按 2026-01-31 的格式填写。"),
        }
        options["widget"] = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        return forms.DateField(input_formats=DATE_INPUT_FORMATS, **options)

    def create_datetime_field(self, field, options):
        options["error_messages"] = {
            **options.get("error_messages", {}),
            "invalid": _("日期时间格式不对，请按 2026-01-31 09:30 的格式填写。"),
        }
        options["widget"] = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        return forms.DateTimeField(input_formats=DATETIME_INPUT_FORMATS, **options)

    def _choice_messages(self, options):
        options["error_messages"] = {
            **options.get("error_messages", {}),
            "invalid_choice": _("选项无效，请重新选择。"),
            "invalid_list": _("选项无效，请重新选择。"),
            "invalid_pk_value": _("选项无效，请重新选择。"),
        }
        return options

    def create_dropdown_field(self, field, options):
        options = self._choice_messages(options)
        options["choices"] = [("", "—— 请选择 ——"), *self.get_formatted_field_choices(field)]
        return forms.ChoiceField(**options)

    def create_radio_field(self, field, options):
        return super().create_radio_field(field, self._choice_messages(options))

    def create_checkboxes_field(self, field, options):
        return super().create_checkboxes_field(field, self._choice_messages(options))

    def create_multiselect_field(self, field, options):
        return super().create_multiselect_field(field, self._choice_messages(options))

    def create_department_field(self, field, options):
        options = self._choice_messages(options)
        options.pop("initial", None)
        return DepartmentChoiceField(
            queryset=Department.objects.active().order_by("sort_order", "name"), empty_label="—— 请选择部门 ——", **options
        )

    def create_departments_field(self, field, options):
        options = self._choice_messages(options)
        options.pop("initial", None)
        return DepartmentsChoiceField(
            queryset=Department.objects.active().order_by("sort_order", "name"),
            widget=forms.CheckboxSelectMultiple,
            **options,
        )

    def create_person_field(self, field, options):
        options = self._choice_messages(options)
        options.pop("initial", None)
        return PersonChoiceField(
            queryset=User.objects.active().select_related("department").order_by("department__sort_order", "name"),
            empty_label="—— 请选择人员 ——",
            **options,
        )

    def create_urgency_field(self, field, options):
        options = self._choice_messages(options)
        options["choices"] = Urgency.choices
        options["initial"] = options.get("initial") or Urgency.MEDIUM
        # Editors may type the label (高/中/低) as the default.
        options["initial"] = {str(label): value for value, label in Urgency.choices}.get(options["initial"], options["initial"])
        return forms.ChoiceField(widget=forms.RadioSelect, **options)

    def create_attachments_field(self, field, options):
        options.pop("initial", None)
        if field.required:
            options["error_messages"] = {"required": _("请上传“%s”。") % field.label}
        return AttachmentsField(
            max_files=field.max_files or 1,
            max_mb=field.max_file_size_mb or 10,
            allowed_types=field.allowed_file_types,
            **options,
        )

    def create_section_field(self, field, options):
        return SectionField(label=options["label"], help_text=options["help_text"])

    def get_form_class(self):
        attrs = dict(self.formfields)
        attrs["conditions"] = {
            (f.clean_name or f.get_field_clean_name()): (f.condition_field.strip(), _split_values(f.condition_value))
            for f in self.fields
            if getattr(f, "condition_field", "").strip()
        }
        attrs["field_types"] = {(f.clean_name or f.get_field_clean_name()): f.field_type for f in self.fields}
        return type("PortalForm", (PortalBaseForm,), attrs)


def _split_values(value: str) -> list[str]:
    if not value or not value.strip():
        return []
    return [v for v in _split_by_newline_or_comma(value.replace("|", ",").replace("，", ",")) if v]


def make_token(page_id: int, user_id: int) -> str:
    return signing.dumps({"p": page_id, "u": user_id, "n": uuid.uuid4().hex}, salt=TOKEN_SALT, compress=True)


class PortalBaseForm(BaseForm):
    """Conditional fields enforced on the server, and a signed one-time token per rendering."""

    conditions: dict[str, tuple[str, list[str]]] = {}
    field_types: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_token"] = forms.CharField(widget=forms.HiddenInput, required=False)
        if not self.is_bound and self.page is not None and getattr(self.user, "pk", None):
            self.initial["form_token"] = make_token(self.page.pk, self.user.pk)
        self.hidden_by_condition: set[str] = set()

    # -- conditions -----------------------------------------------------------------------
    def _raw_values(self, name: str) -> set[str]:
        """What the person chose in a field, as raw values and as labels, from the POST."""
        field = self.fields.get(name)
        if field is None:
            return set()
        raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        values = raw if isinstance(raw, list | tuple) else [raw]
        values = {str(v).strip() for v in values if v not in (None, "", False)}
        if isinstance(field, forms.BooleanField):
            return set(TRUE_WORDS) if raw else set()
        if isinstance(field, forms.ChoiceField):  # ModelChoiceField included
            for value, label in field.choices:
                if str(value) in values:
                    values.add(str(label))
        return values

    def is_shown(self, name: str, _seen=None) -> bool:
        if name not in self.conditions:
            return True
        controller, expected = self.conditions[name]
        seen = (_seen or set()) | {name}
        if controller not in self.fields or controller in seen:
            return True  # a condition on a missing field or a loop does not hide anything
        if not self.is_shown(controller, seen):
            return False
        chosen = self._raw_values(controller)
        if not expected:
            return bool(chosen)  # "show when Y has any value"
        return bool(chosen & set(expected))

    def full_clean(self):
        if self.is_bound:
            self.hidden_by_condition = {name for name in self.conditions if not self.is_shown(name)}
            for name in self.hidden_by_condition:
                self.fields[name].required = False
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        for name in self.hidden_by_condition:
            # Submitted while hidden: ignored, and so are its errors.
            cleaned.pop(name, None)
            self._errors.pop(name, None)
        for name, type_ in self.field_types.items():
            if type_ == "section":
                cleaned.pop(name, None)
        token = cleaned.get("form_token") or ""
        try:
            payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature:
            payload = None
        if (
            not isinstance(payload, dict)
            or payload.get("p") != getattr(self.page, "pk", None)
            or payload.get("u") != getattr(self.user, "pk", None)
        ):
            self.add_error(None, _("表单已过期或无效（可能在别处打开过太久），请检查内容后再次提交。"))
            self.data = self.data.copy()
            self.data[self.add_prefix("form_token")] = make_token(getattr(self.page, "pk", 0), getattr(self.user, "pk", 0))
        else:
            cleaned["form_token"] = str(payload["n"])
        return cleaned

    @property
    def has_attachments(self) -> bool:
        return any(isinstance(f, AttachmentsField) for f in self.fields.values())

    def condition_attrs(self, name: str) -> dict | None:
        if name not in self.conditions:
            return None
        controller, expected = self.conditions[name]
        return {"field": controller, "values": expected}


def to_json(field_type: str, value):
    """A cleaned value as JSON-safe data kept in the submission (names frozen at submission)."""
    if value is None:
        return None
    if field_type == "department" and isinstance(value, Department):
        return {"id": value.pk, "name": value.name}
    if field_type == "departments":
        return [{"id": d.pk, "name": d.name} for d in value]
    if field_type == "person" and isinstance(value, User):
        return {
            "id": value.pk,
            "name": value.get_full_name(),
            "department": value.department.name if value.department_id else "",
        }
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return value


def display(field_type: str, value) -> str:
    """A stored value as plain text for lists, exports and emails (templates escape it)."""
    if value in (None, "", []):
        return ""
    if field_type == "urgency":
        return str(dict(Urgency.choices).get(value, value))
    if field_type == "checkbox":
        return "是" if value else "否"
    if field_type == "person" and isinstance(value, dict):
        return f"{value.get('name', '')}（{value['department']}）" if value.get("department") else value.get("name", "")
    if field_type == "datetime" and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        from django.utils import timezone

        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict):
        return str(value.get("name", ""))
    if isinstance(value, list):
        return "、".join(display(field_type, v) if isinstance(v, dict) else str(v) for v in value)
    return str(value)
