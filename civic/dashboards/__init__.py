"""Participation dashboards: who takes part, where, and who is missing (aggregates only)."""
