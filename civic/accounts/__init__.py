"""Residents, councillors, officers and admins: registration, sign-in, sessions, roles."""
