"""StreamField blocks an administrator arranges on the home page."""

from django.utils.translation import gettext_lazy as _

from wagtail import blocks


class QuickLinkBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("名称"), max_length=30)
    page = blocks.PageChooserBlock(label=_("站内页面"), required=False)
    url = blocks.CharBlock(label=_("或链接地址"), required=False, help_text=_("站内路径如 /forms/ ，或完整网址。"))
    description = blocks.CharBlock(label=_("说明"), required=False, max_length=60)

    class Meta:
        icon = "link"
        label = _("快捷入口")
        template = "home/blocks/quick_link.html"

    def clean(self, value):
        from django.core.exceptions import ValidationError

        from wagtail.blocks import StructBlockValidationError

        result = super().clean(value)
        if not result.get("page") and not result.get("url"):
            raise StructBlockValidationError({"url": ValidationError(_("请选择站内页面或填写链接地址。"))})
        return result


class QuickLinksBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), default=_("常用入口"))
    links = blocks.ListBlock(QuickLinkBlock(), label=_("入口"))

    class Meta:
        icon = "list-ul"
        label = _("快捷入口组")
        template = "home/blocks/quick_links.html"


class FeaturedItemBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("标题"), max_length=60)
    text = blocks.TextBlock(label=_("摘要"), required=False)
    page = blocks.PageChooserBlock(label=_("指向页面"), required=False)

    class Meta:
        icon = "pick"
        label = _("推荐内容")
        template = "home/blocks/featured_item.html"


class HomeBodyBlock(blocks.StreamBlock):
    quick_links = QuickLinksBlock()
    featured = FeaturedItemBlock()
    text = blocks.RichTextBlock(label=_("文字"), features=["bold", "italic", "link", "ul", "ol", "h3"])
