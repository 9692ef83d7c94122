"""Consultations: questionnaires, responses, results and "We asked, you said, we did"."""
