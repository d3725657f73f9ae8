"""Editable form pages (需求单 / 反馈单 / 联系单 / 转呈单): numbered submissions with attachments."""
