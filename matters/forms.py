"""Front-end forms for a matter: a comment, a file added later, withdrawal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import MAX_COMMENT_LENGTH


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("留言"),
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写留言内容。")},
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("补充附件"), error_messages={"required": _("请选择要上传的文件。")})
    text = forms.CharField(label=_("说明"), max_length=500, required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=500, required=False)
