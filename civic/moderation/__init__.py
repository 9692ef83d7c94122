"""Moderation: the queue, decisions, reports, suspensions and the public policy page."""
