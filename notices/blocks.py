"""StreamField blocks of a notice body: headings, paragraphs, tables and images."""

from django.utils.translation import gettext_lazy as _

from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.images.blocks import ImageChooserBlock

TABLE_OPTIONS = {
    "minSpareRows": 0,
    "startRows": 3,
    "startCols": 3,
    "colHeaders": False,
    "rowHeaders": False,
    "contextMenu": True,
    "editor": "text",
    "stretchH": "all",
    "height": 216,
    "language": "zh-CN",
    "renderer": "text",
    "autoColumnSize": False,
}


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        label = _("小标题")
        template = "notices/blocks/heading.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("图片"))
    caption = blocks.CharBlock(label=_("说明"), required=False, max_length=200)

    class Meta:
        icon = "image"
        label = _("图片")
        template = "notices/blocks/image.html"


class NoticeTableBlock(TableBlock):
    class Meta:
        icon = "table"
        label = _("表格")
        template = "notices/blocks/table.html"


class NoticeBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock(max_length=100)
    paragraph = blocks.RichTextBlock(
        label=_("段落"),
        features=["bold", "italic", "ol", "ul", "link", "document-link", "hr"],
        icon="pilcrow",
    )
    table = NoticeTableBlock(table_options=TABLE_OPTIONS)
    image = ImageBlock()
