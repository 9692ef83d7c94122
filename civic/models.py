"""Every model, imported in one place so the metadata (and so migrations) sees all tables."""

from civic.accounts.models import EmailToken, User, UserRole, UserSession  # noqa: F401
from civic.areas.models import Area, AreaBaseline  # noqa: F401
from civic.core.audit import AuditEvent  # noqa: F401
from civic.core.mail import OutboundEmail  # noqa: F401
