"""Administration pages: people and their roles (the audit log comes with moderation)."""
