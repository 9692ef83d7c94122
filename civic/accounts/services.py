"""Account rules: registration, verification, sign-in, sessions, passwords, roles, deletion.

Each public function is one unit of work: it checks the rules, changes rows, records an audit
event where the action is an administrative one, queues any email, and commits once. Broken
rules raise ``RuleViolation`` subclasses with a message for the person and, where it belongs
to one, the form field.

Privacy rules enforced here:
* sign-in, registration and password reset answer the same way for known and unknown emails
  (and sign-in spends the same argon2 time on both);
* tokens and session identifiers are random, and only their SHA-256 is stored;
* deleting an account removes personal data but keeps the row, so every count that includes
  the person's past participation stays exactly as it was.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from civic.accounts.demographics import DIMENSIONS, PREFER_NOT_TO_SAY
from civic.accounts.models import FORMER_PARTICIPANT, EmailToken, User, UserRole, UserSession
from civic.areas.models import Area, AreaLevel
from civic.core.audit import EventTag, record_event
from civic.core.errors import NotAllowed, RuleViolation
from civic.core.mail import queue_email
from civic.core.models import utcnow
from civic.core.permissions import Permission, Role, has_permission
from civic.core.urls import external_url
from civic.extensions import db

# --- Errors ---------------------------------------------------------------------------------


class InvalidCredentials(RuleViolation):
    message = "Enter a correct email address and password."


class TokenInvalid(RuleViolation):
    message = "This link has expired or has already been used."


class WeakPassword(RuleViolation):
    pass


class InvalidEmail(RuleViolation):
    message = "Enter an email address in the correct format, like name@example.com"


class UnknownWard(RuleViolation):
    message = "Select your ward from the list"


class RoleChangeRefused(RuleViolation):
    pass


# --- Small helpers --------------------------------------------------------------------------

VERIFY = "verify"
RESET = "reset"
TOUCH_INTERVAL = timedelta(minutes=5)

_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Lower-case and check the address; raises InvalidEmail. No DNS look-up (works offline)."""
    email = (email or "").strip()
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(field="email") from exc
    return result.normalized.lower()


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    key = ("civic_hasher", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    hasher = current_app.extensions.get(key)
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"], parallelism=cfg["ARGON2_PARALLELISM"]
        )
        current_app.extensions[key] = hasher
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash() -> str:
    key = "civic_dummy_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = hash_password(secrets.token_urlsafe(16))
    return current_app.extensions[key]


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable, or None (NCSC/NIST: length and a deny-list)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        return f"Password must be {minimum} characters or more"
    if len(password) > 128:
        return "Password must be 128 characters or fewer"
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS:
        return "This password is too common. Choose a password that is harder to guess"
    hints = [h for h in (email, email.split("@")[0] if email else "", name) if h]
    if any(h.lower() in lowered for h in hints if len(h) >= 4):
        return "Your password must not contain your name or email address"
    # zxcvbn catches common passwords with small changes, keyboard walks, repeats and dates.
    if zxcvbn(password[:64], user_inputs=hints)["score"] < 3:
        return "This password is too easy to guess. Try a few unrelated words together"
    return None


def _check_new_password(password: str, *, email: str, name: str, field: str = "password") -> None:
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise WeakPassword(problem, field=field)


def _check_ward(ward_id: int | None) -> Area:
    ward = db.session.get(Area, ward_id) if ward_id else None
    if ward is None or ward.level != AreaLevel.WARD:
        raise UnknownWard(field="ward_id")
    return ward


def _clean_demographics(values: dict) -> dict:
    clean: dict[str, str | None] = {}
    for key, dimension in DIMENSIONS.items():
        value = values.get(key) or None
        if value is not None and value not in (*dimension.values, PREFER_NOT_TO_SAY):
            message = f"Choose one of the answers given for: {dimension.question}"
            raise RuleViolation(message, field=key)
        clean[key] = value
    return clean


# --- Email tokens ---------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="civic-email-token")


def _issue_token(user: User, purpose: str, max_age: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    db.session.add(
        EmailToken(
            token_hash=_sha256(raw),
            purpose=purpose,
            user_id=user.id,
            expires_at=utcnow() + max_age,
            sent_to=user.email,
        )
    )
    return _serializer().dumps({"t": raw, "p": purpose})


def _find_token(signed: str, purpose: str) -> EmailToken:
    """The live token row for a signed link, or TokenInvalid. Does not use it up."""
    max_age = current_app.config["RESET_TOKEN_MAX_AGE" if purpose == RESET else "VERIFY_TOKEN_MAX_AGE"]
    try:
        payload = _serializer().loads(signed, max_age=int(max_age.total_seconds()))
    except (BadSignature, SignatureExpired) as exc:
        raise TokenInvalid from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose or not isinstance(payload.get("t"), str):
        raise TokenInvalid
    token = db.session.execute(
        select(EmailToken).where(EmailToken.token_hash == _sha256(payload["t"]), EmailToken.purpose == purpose)
    ).scalar_one_or_none()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise TokenInvalid
    user = token.user
    if user.is_deleted or user.email != token.sent_to:
        raise TokenInvalid
    return token


# --- Registration and verification ----------------------------------------------------------


@dataclass
class Registration:
    email: str
    display_name: str
    password: str
    ward_id: int | None
    demographics: dict


def register_resident(reg: Registration) -> User | None:
    """Create a resident account and email a verification link.

    If the address already has an account, nothing is created; that address is emailed
    instead (so the page the visitor sees is the same either way). Returns the new user, or
    None when the address was already registered.
    """
    email = normalise_email(reg.email)
    name = (reg.display_name or "").strip()
    if not name:
        raise RuleViolation("Enter your name", field="display_name")
    _check_new_password(reg.password, email=email, name=name)
    ward = _check_ward(reg.ward_id)
    demographics = _clean_demographics(reg.demographics)

    existing = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if existing is not None:
        queue_email(
            email,
            "You already have an account",
            "already_registered",
            user=existing,
            sign_in_url=external_url("accounts.sign_in"),
            reset_url=external_url("accounts.reset_request"),
        )
        db.session.commit()
        return None

    user = User(email=email, display_name=name, password_hash=hash_password(reg.password), ward_id=ward.id, **demographics)
    user.roles.append(UserRole(role=Role.RESIDENT))
    db.session.add(user)
    db.session.flush()
    _queue_verification(user)
    db.session.commit()
    return user


def _queue_verification(user: User) -> None:
    token = _issue_token(user, VERIFY, current_app.config["VERIFY_TOKEN_MAX_AGE"])
    queue_email(
        user.email,
        "Confirm your email address",
        "verify_email",
        user=user,
        verify_url=external_url("accounts.verify", token=token),
    )


def resend_verification(user: User) -> None:
    """Send a fresh verification link to a signed-in, unverified account."""
    if user.is_verified:
        return
    _queue_verification(user)
    db.session.commit()


def verify_email(signed_token: str) -> User:
    """Mark the address verified; the link works once."""
    token = _find_token(signed_token, VERIFY)
    token.used_at = utcnow()
    user = token.user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.commit()
    return user


# --- Sign-in and sessions -------------------------------------------------------------------


def authenticate(email: str, password: str) -> User:
    """The account for these credentials, or InvalidCredentials (same message, same work)."""
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        normalised = None
    user = None
    if normalised:
        user = db.session.execute(select(User).where(User.email == normalised)).scalar_one_or_none()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher().verify(stored, password or "")
        ok = user is not None and user.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise InvalidCredentials
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User) -> str:
    """Open a server-side session; returns the token to keep in the cookie."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=_sha256(raw),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + current_app.config["PERMANENT_SESSION_LIFETIME"],
        )
    )
    user.last_sign_in_at = now
    # Tidy up this person's expired sessions while we are here.
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    db.session.commit()
    user.session_token = raw
    return raw


def load_session(raw_token: str | None) -> User | None:
    """The user for a session token, if that session is still open on the server."""
    if not raw_token:
        return None
    row = (
        db.session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == _sha256(raw_token), UserSession.expires_at > utcnow(), User.deleted_at.is_(None))
            # Every signed-in request loads the person's ward; not its outline, which pages that
            # draw maps load themselves (found by the benchmark: kilobytes per request at metro scale).
            # The roles come in the same statement: every request that checks a permission needs them.
            .options(joinedload(User.ward).defer(Area.boundary), joinedload(User.roles))
        )
        .unique()
        .first()
    )
    if row is None:
        return None
    user = row.User
    user.session_token = raw_token
    return user


def end_session(raw_token: str | None) -> None:
    """Sign out: delete the server-side session, so the cookie is worthless everywhere."""
    if raw_token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _sha256(raw_token)))
        db.session.commit()


def _end_all_sessions(user: User, *, keep: str | None = None) -> None:
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.token_hash != _sha256(keep))
    db.session.execute(query)


# --- Passwords ------------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; do nothing visible otherwise."""
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        return
    user = db.session.execute(select(User).where(User.email == normalised, User.deleted_at.is_(None))).scalar_one_or_none()
    if user is None:
        return
    token = _issue_token(user, RESET, current_app.config["RESET_TOKEN_MAX_AGE"])
    queue_email(
        user.email,
        "Reset your password",
        "reset_password",
        user=user,
        reset_url=external_url("accounts.reset_password", token=token),
        minutes=int(current_app.config["RESET_TOKEN_MAX_AGE"].total_seconds() // 60),
    )
    db.session.commit()


def check_reset_token(signed_token: str) -> User:
    """The account a reset link is for, if the link is still good (it is not used up)."""
    return _find_token(signed_token, RESET).user


def reset_password(signed_token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link works once and signs out everywhere."""
    token = _find_token(signed_token, RESET)
    user = token.user
    _check_new_password(new_password, email=user.email or "", name=user.display_name)
    token.used_at = utcnow()
    user.password_hash = hash_password(new_password)
    # A reset link proves control of the address, as a verification link does.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    # Every other outstanding reset link dies with this one.
    db.session.execute(
        delete(EmailToken).where(EmailToken.user_id == user.id, EmailToken.purpose == RESET, EmailToken.id != token.id)
    )
    _end_all_sessions(user)
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password; every other session of this account is signed out."""
    try:
        _hasher().verify(user.password_hash or _dummy_hash(), current_password or "")
    except (VerificationError, InvalidHashError) as exc:
        raise RuleViolation("Your current password is not correct", field="current_password") from exc
    _check_new_password(new_password, email=user.email or "", name=user.display_name, field="new_password")
    user.password_hash = hash_password(new_password)
    _end_all_sessions(user, keep=user.session_token)
    db.session.commit()


# --- Profile, data export and deletion ------------------------------------------------------


def update_profile(user: User, *, display_name: str, ward_id: int | None, demographics: dict) -> None:
    name = (display_name or "").strip()
    if not name:
        raise RuleViolation("Enter your name", field="display_name")
    ward = _check_ward(ward_id)
    clean = _clean_demographics(demographics)
    user.display_name = name
    user.ward_id = ward.id
    for key, value in clean.items():
        setattr(user, key, value)
    db.session.commit()


# Functions that add a section to "download my data"; each domain registers its own.
DATA_EXPORTERS: list = []


def export_user_data(user: User) -> dict:
    """Everything we hold about this person, for a subject access download."""
    data = {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
            "created_at": user.created_at.isoformat() if user.created_at else None,
            "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
            "ward": {"name": user.ward.name, "gss_code": user.ward.gss_code} if user.ward else None,
            "roles": sorted(user.role_names),
            "suspended": user.is_suspended,
            "suspension_reason": user.suspension_reason if user.is_suspended else None,
        },
        "demographics": {key: getattr(user, key) for key in DIMENSIONS},
        "sessions": [
            {"created_at": s.created_at.isoformat(), "expires_at": s.expires_at.isoformat()}
            for s in db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalars()
        ],
    }
    for exporter in DATA_EXPORTERS:
        data.update(exporter(user))
    return data


# Functions run when an account is deleted, before personal data is removed; each domain
# registers one to withdraw what must go (e.g. supports in open consultations).
DELETION_HOOKS: list = []


def delete_account(user: User, password: str) -> None:
    """Delete an account at its owner's request: personal data goes, the row stays.

    The row keeps its id so that everything that refers to it (and every tally of a closed
    consultation) is unchanged; its name becomes "Former participant".
    """
    try:
        _hasher().verify(user.password_hash or _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError) as exc:
        raise RuleViolation("Your password is not correct", field="password") from exc
    for hook in DELETION_HOOKS:
        hook(user)
    user_id = user.id
    user.email = None
    user.display_name = FORMER_PARTICIPANT
    user.password_hash = None
    user.ward_id = None
    for key in DIMENSIONS:
        setattr(user, key, None)
    user.suspension_reason = None
    user.deleted_at = utcnow()
    user.roles.clear()
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user_id))
    _end_all_sessions(user)
    record_event(EventTag.ACCOUNT_USER_DELETE, actor=user_id, subject_type="user", subject_id=user_id)
    db.session.commit()


# --- Administration -------------------------------------------------------------------------

USERS_PER_PAGE = 25


def search_users(query: str = "", role: str | None = None, page: int = 1):
    """Accounts matching a name or email fragment, optionally with a role; newest first."""
    stmt = select(User).where(User.deleted_at.is_(None))
    query = (query or "").strip()
    if query:
        # Match the text literally: % and _ typed by the admin are not wildcards.
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        stmt = stmt.where(
            or_(func.lower(User.email).like(like, escape="\\"), func.lower(User.display_name).like(like, escape="\\"))
        )
    if role:
        stmt = stmt.where(User.roles.any(UserRole.role == Role(role).value))
    return db.paginate(stmt.order_by(User.id.desc()), page=max(page, 1), per_page=USERS_PER_PAGE, error_out=False)


def _require(actor: User, permission: Permission) -> None:
    if not has_permission(actor, permission):
        raise NotAllowed


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Enter a reason; it is kept in the audit log", field="reason")
    return reason


def grant_role(actor: User, user: User, role: Role, *, reason: str, area_id: int | None = None) -> None:
    """Give a role (a councillor's names their ward); recorded in the audit log."""
    _require(actor, Permission.ACCOUNTS_USER_MANAGE)
    reason = _reason(reason)
    if user.is_deleted:
        raise RoleChangeRefused("This account has been deleted")
    if user.has_role(role):
        raise RoleChangeRefused(f"This person is already {role.label.lower()}", field="role")
    area = None
    if role == Role.COUNCILLOR:
        area = _check_ward(area_id)
    user.roles.append(UserRole(role=role, area_id=area.id if area else None, granted_by_id=actor.id))
    details = {"role": str(role)}
    if area:
        details["ward"] = area.gss_code
    record_event(
        EventTag.ACCOUNT_ROLE_GRANT, actor=actor, subject_type="user", subject_id=user.id, reason=reason, details=details
    )
    db.session.commit()


def revoke_role(actor: User, user: User, role: Role, *, reason: str) -> None:
    """Take a role away; an admin cannot remove their own admin role (no lock-out)."""
    _require(actor, Permission.ACCOUNTS_USER_MANAGE)
    reason = _reason(reason)
    if not user.has_role(role):
        raise RoleChangeRefused(f"This person is not {role.label.lower()}", field="role")
    if role == Role.ADMIN and user.id == actor.id:
        raise RoleChangeRefused("You cannot remove your own admin role", field="role")
    for grant in list(user.roles):
        if grant.role == role:
            user.roles.remove(grant)
    record_event(
        EventTag.ACCOUNT_ROLE_REVOKE,
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        reason=reason,
        details={"role": str(role)},
    )
    db.session.commit()


def suspend_user(actor: User, user: User, *, reason: str, until: datetime | None = None) -> None:
    """Suspend an account (until a time, or until restored); it keeps read access to itself."""
    _require(actor, Permission.ACCOUNTS_USER_SUSPEND)
    reason = _reason(reason)
    if user.id == actor.id:
        raise RoleChangeRefused("You cannot suspend your own account")
    if user.is_deleted:
        raise RoleChangeRefused("This account has been deleted")
    if until is not None and until <= utcnow():
        raise RuleViolation("The end of the suspension must be in the future", field="until")
    user.suspended_at = utcnow()
    user.suspended_until = until
    user.suspension_reason = reason
    record_event(
        EventTag.ACCOUNT_USER_SUSPEND,
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        reason=reason,
        details={"until": until.isoformat() if until else None},
    )
    db.session.commit()


def restore_user(actor: User, user: User, *, reason: str) -> None:
    """Lift a suspension."""
    _require(actor, Permission.ACCOUNTS_USER_SUSPEND)
    reason = _reason(reason)
    if not user.is_suspended:
        raise RoleChangeRefused("This account is not suspended")
    user.suspended_at = None
    user.suspended_until = None
    user.suspension_reason = None
    record_event(EventTag.ACCOUNT_USER_RESTORE, actor=actor, subject_type="user", subject_id=user.id, reason=reason)
    db.session.commit()


def create_admin(email: str, password: str, display_name: str = "Administrator") -> User:
    """Create (or promote) an admin account from the command line; its email counts as verified."""
    email = normalise_email(email)
    _check_new_password(password, email=email, name=display_name)
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, display_name=display_name, password_hash=hash_password(password), email_verified_at=utcnow())
        db.session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.email_verified_at = user.email_verified_at or utcnow()
    if not user.has_role(Role.ADMIN):
        user.roles.append(UserRole(role=Role.ADMIN))
    db.session.flush()
    record_event(
        EventTag.ACCOUNT_ADMIN_CREATE, actor=None, subject_type="user", subject_id=user.id, reason="flask users create-admin"
    )
    db.session.commit()
    return user
