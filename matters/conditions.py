"""The routing-rule condition language: a fixed set of operators over a submission's answers.

Nothing an editor types is ever evaluated as code: a condition is (subject, operator, value)
and each operator is a small Python function below. ``check`` says whether an operator fits a
field type (used when a rule is saved); ``test`` answers one condition for one submission.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

# The subject that is not a form field: the submitter's own department.
SUBMITTER_DEPARTMENT = "提交部门"

OPERATORS = {
    "eq": _("等于"),
    "in": _("是其中之一"),
    "contains": _("包含"),
    "empty": _("为空"),
    "not_empty": _("不为空"),
    "gt": _("大于"),
    "lt": _("小于"),
    "between": _("日期介于"),
}
OPERATOR_CHOICES = list(OPERATORS.items())

TEXT = {"singleline", "multiline", "email", "url", "hiddenfield"}
CHOICE = {"dropdown", "radio", "urgency", "department", "person", "checkbox"}
MULTI = {"checkboxes", "multiselect", "departments"}
ORDERED = {"number", "date", "datetime"}
DATES = {"date", "datetime"}

# Which operators fit which field type.
FITS: dict[str, set[str]] = {
    "eq": TEXT | CHOICE | ORDERED | {"department_of_submitter"},
    "in": TEXT | CHOICE | MULTI | {"department_of_submitter"},
    "contains": TEXT | MULTI,
    "empty": TEXT | CHOICE | MULTI | ORDERED | {"attachments"},
    "not_empty": TEXT | CHOICE | MULTI | ORDERED | {"attachments"},
    "gt": {"number", "date", "datetime"},
    "lt": {"number", "date", "datetime"},
    "between": DATES,
}
NEEDS_VALUE = {"eq", "in", "contains", "gt", "lt", "between"}
URGENCY_LABELS = {"high": "高", "medium": "中", "low": "低"}
SPLIT = re.compile(r"[,，|、\n]+")


class ConditionError(ValueError):
    """A condition that cannot be evaluated (its value does not parse for the operator)."""


@functools.lru_cache(maxsize=4096)
def split_values(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in SPLIT.split(value or "") if v.strip())


@functools.lru_cache(maxsize=4096)
def _date(text: str) -> dt.date:
    text = str(text).strip()
    try:
        return dt.date.fromisoformat(text[:10].replace("/", "-").replace(".", "-"))
    except ValueError:
        raise ConditionError(_("“%s”不是日期，请写成 2026-01-31。") % text) from None


@functools.lru_cache(maxsize=4096)
def _number(text) -> Decimal:
    try:
        return Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ConditionError(_("“%s”不是数字。") % text) from None


@functools.lru_cache(maxsize=1024)
def _between(value: str) -> tuple[dt.date, dt.date]:
    parts = [p for p in re.split(r"\s*(?:~|～|至|到)\s*", value or "") if p.strip()]
    if len(parts) != 2:
        raise ConditionError(_("日期区间请写成 2026-01-01~2026-03-31。"))
    lo, hi = _date(parts[0]), _date(parts[1])
    if hi < lo:
        raise ConditionError(_("日期区间的结束早于开始。"))
    return lo, hi


def check(operator: str, field_type: str, value: str) -> str | None:
    """A Chinese error when the condition cannot work, else None."""
    if operator not in OPERATORS:
        return str(_("未知的条件：%s。") % operator)
    if field_type == "section":
        return str(_("分节标题不是可判断的字段。"))
    if field_type not in FITS[operator]:
        return str(_("“%(op)s”不适用于这种字段。") % {"op": OPERATORS[operator]})
    if operator in NEEDS_VALUE and not (value or "").strip():
        return str(_("“%(op)s”需要填写比较的值。") % {"op": OPERATORS[operator]})
    try:
        if operator in {"gt", "lt"}:
            if field_type == "number":
                _number(value)
            else:
                _date(value)
        elif operator == "between":
            _between(value)
        elif operator == "eq" and field_type == "number":
            _number(value)
        elif operator == "eq" and field_type in DATES:
            _date(value)
    except ConditionError as exc:
        return str(exc)
    return None


def normalise(field_type: str, raw):
    """A stored answer as the text(s) conditions compare with: names, labels, ISO dates."""
    if raw is None:
        return None
    if field_type == "urgency":
        return URGENCY_LABELS.get(raw, raw)
    if field_type == "checkbox":
        return "是" if raw else "否"
    if isinstance(raw, dict):
        return str(raw.get("name", ""))
    if isinstance(raw, list):
        return [str(v.get("name", "")) if isinstance(v, dict) else str(v) for v in raw]
    return raw


def is_empty(value) -> bool:
    return value in (None, "", [], {})


def test(operator: str, field_type: str, raw, expected: str) -> bool:
    """Whether one answer satisfies one condition. Raises ConditionError for a bad value."""
    value = normalise(field_type, raw)
    if operator == "empty":
        return is_empty(value)
    if operator == "not_empty":
        return not is_empty(value)
    if is_empty(value):
        return False
    expected = (expected or "").strip()
    if operator == "eq":
        if field_type == "number":
            return _number(value) == _number(expected)
        if field_type in DATES:
            return _date(value) == _date(expected)
        return str(value).strip() == expected
    if operator == "in":
        options = set(split_values(expected))
        if isinstance(value, list):
            return any(v in options for v in value)
        return str(value).strip() in options
    if operator == "contains":
        if isinstance(value, list):
            return expected in value
        return expected in str(value)
    if operator in {"gt", "lt"}:
        if field_type == "number":
            a, b = _number(value), _number(expected)
        else:
            a, b = _date(value), _date(expected)
        return a > b if operator == "gt" else a < b
    if operator == "between":
        lo, hi = _between(expected)
        return lo <= _date(value) <= hi
    raise ConditionError(_("未知的条件：%s。") % operator)


def combine(mode: str, results: list[bool]) -> bool:
    return all(results) if mode == "all" else any(results)
