"""部门间函件: numbered letters, 签发 approval, 签收 and reply, GB/T 9704 PDF archive."""
