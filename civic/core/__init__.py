"""Domain-free plumbing: models mixins, errors, permissions, audit, security, mail, templating."""
