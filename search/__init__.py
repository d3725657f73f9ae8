"""Chinese full-text search over the portal's content, filtered by each person's permissions."""
