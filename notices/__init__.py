"""内部通告: notice pages, audiences, 已阅 receipts, statistics and reminders."""
