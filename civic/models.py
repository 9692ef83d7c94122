"""Every model, imported in one place so the metadata (and so migrations) sees all tables."""

from civic.accounts.models import EmailToken, User, UserRole, UserSession  # noqa: F401
from civic.areas.models import Area, AreaBaseline  # noqa: F401
from civic.consultations.models import (  # noqa: F401
    Answer,
    Consultation,
    ConsultationArea,
    OutcomeEmailOptOut,
    Question,
    QuestionOption,
    Response,
)
from civic.core.audit import AuditEvent  # noqa: F401
from civic.core.mail import OutboundEmail  # noqa: F401
from civic.dashboards.models import StoredPublication  # noqa: F401
from civic.ideas.models import Comment, Idea, IdeaCollection, Support  # noqa: F401
from civic.moderation.models import Decision, Report  # noqa: F401
