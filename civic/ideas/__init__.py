"""Ideas inside consultations, supports and comments."""
