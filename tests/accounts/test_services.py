"""Account rules, one test per refusal."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.accounts import services
from civic.accounts.models import FORMER_PARTICIPANT, EmailToken, User, UserSession
from civic.core.audit import AuditEvent, verify_chain
from civic.core.errors import NotAllowed, RuleViolation
from civic.core.models import utcnow
from civic.core.permissions import Role
from civic.extensions import db
from tests.conftest import PASSWORD


def registration(geography, **overrides):
    values = {
        "email": "New.Person@Example.org",
        "display_name": "New Person",
        "password": "maple orchard window 9",
        "ward_id": geography.wards[1].id,
        "demographics": {"age_band": "25-34", "sex": "prefer_not_to_say", "ethnic_group": None, "disability": ""},
    }
    values.update(overrides)
    return services.Registration(**values)


def link_token(body: str) -> str:
    return body.split("/verify/")[1].split()[0] if "/verify/" in body else body.split("/reset-password/")[1].split()[0]


class TestRegister:
    def test_creates_an_unverified_resident_and_emails_a_link(self, geography, outbox):
        user = services.register_resident(registration(geography))
        assert user.email == "new.person@example.org"
        assert user.role_names == {"resident"}
        assert not user.is_verified
        assert user.password_hash.startswith("$argon2id$")
        assert user.age_band == "25-34" and user.sex == "prefer_not_to_say"
        assert user.ethnic_group is None and user.disability is None
        assert outbox[-1].to == ["new.person@example.org"]
        assert "/verify/" in outbox[-1].body

    def test_existing_address_creates_nothing_and_tells_the_owner(self, geography, resident, outbox):
        before = db.session.scalar(select(func.count()).select_from(User))
        assert services.register_resident(registration(geography, email=resident.email.upper())) is None
        assert db.session.scalar(select(func.count()).select_from(User)) == before
        assert outbox[-1].to == [resident.email]
        assert "already have" in outbox[-1].body

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short pass", "12 characters or more"),
            ("password1234", "too common"),
            ("qwertyuiop12", "too common"),
            ("aaaaaaaaaaaa", "too easy to guess"),
            ("x" * 129, "128 characters or fewer"),
        ],
    )
    def test_weak_passwords_are_refused(self, geography, password, message):
        with pytest.raises(services.WeakPassword, match=message) as caught:
            services.register_resident(registration(geography, password=password))
        assert caught.value.field == "password"

    def test_password_containing_the_name_is_refused(self, geography):
        with pytest.raises(services.WeakPassword, match="name or email"):
            services.register_resident(registration(geography, display_name="Gwendolyn", password="gwendolyn orchard 77"))

    @pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.org", ""])
    def test_bad_email_is_refused(self, geography, email):
        with pytest.raises(services.InvalidEmail):
            services.register_resident(registration(geography, email=email))

    def test_ward_must_be_a_ward(self, geography):
        with pytest.raises(services.UnknownWard):
            services.register_resident(registration(geography, ward_id=geography.boroughs[0].id))
        with pytest.raises(services.UnknownWard):
            services.register_resident(registration(geography, ward_id=999999))

    def test_demographic_answers_must_be_census_categories(self, geography):
        with pytest.raises(RuleViolation) as caught:
            services.register_resident(registration(geography, demographics={"ethnic_group": "martian"}))
        assert caught.value.field == "ethnic_group"

    def test_blank_name_is_refused(self, geography):
        with pytest.raises(RuleViolation, match="Enter your name"):
            services.register_resident(registration(geography, display_name="   "))


class TestVerify:
    def test_link_verifies_once(self, geography, outbox):
        user = services.register_resident(registration(geography))
        token = link_token(outbox[-1].body)
        assert services.verify_email(token).id == user.id
        assert db.session.get(User, user.id).is_verified
        with pytest.raises(services.TokenInvalid):
            services.verify_email(token)

    def test_expired_link_is_refused(self, geography, outbox):
        services.register_resident(registration(geography))
        token = link_token(outbox[-1].body)
        db.session.execute(db.update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        with pytest.raises(services.TokenInvalid):
            services.verify_email(token)

    @pytest.mark.parametrize("token", ["garbage", "eyJ0IjoiYSIsInAiOiJ2ZXJpZnkifQ.xx.yy", ""])
    def test_forged_links_are_refused(self, app, token):
        with pytest.raises(services.TokenInvalid):
            services.verify_email(token)

    def test_a_reset_token_does_not_verify(self, resident, outbox):
        services.request_password_reset(resident.email)
        with pytest.raises(services.TokenInvalid):
            services.verify_email(link_token(outbox[-1].body))

    def test_resend_sends_a_new_link_only_when_unverified(self, make_user, outbox):
        unverified = make_user(verified=False)
        services.resend_verification(unverified)
        assert len(outbox) == 1
        verified = make_user()
        services.resend_verification(verified)
        assert len(outbox) == 1


class TestAuthenticate:
    def test_correct_password(self, resident):
        assert services.authenticate(resident.email.upper(), PASSWORD).id == resident.id

    @pytest.mark.parametrize("email", ["nobody@example.org", "not an email", ""])
    def test_unknown_email_gets_the_same_refusal(self, resident, email):
        with pytest.raises(services.InvalidCredentials) as unknown:
            services.authenticate(email, PASSWORD)
        with pytest.raises(services.InvalidCredentials) as wrong:
            services.authenticate(resident.email, "wrong password here")
        assert unknown.value.message == wrong.value.message

    def test_deleted_account_cannot_sign_in(self, resident):
        email = resident.email
        services.delete_account(resident, PASSWORD)
        with pytest.raises(services.InvalidCredentials):
            services.authenticate(email, PASSWORD)


class TestSessions:
    def test_session_round_trip_and_end(self, resident):
        token = services.start_session(resident)
        assert services.load_session(token).id == resident.id
        services.end_session(token)
        assert services.load_session(token) is None

    def test_loading_a_session_loads_the_ward_but_not_its_outline(self, resident):
        from sqlalchemy import inspect

        token, ward_id = services.start_session(resident), resident.ward_id
        db.session.expunge_all()  # a new request: nothing cached in the identity map
        user = services.load_session(token)
        assert "ward" in inspect(user).dict
        assert "boundary" not in inspect(user.ward).dict
        assert user.ward.id == ward_id

    def test_only_the_hash_is_stored(self, resident):
        token = services.start_session(resident)
        stored = db.session.scalar(select(UserSession.token_hash))
        assert token not in stored and len(stored) == 64

    def test_expired_session_does_not_load(self, resident):
        token = services.start_session(resident)
        db.session.execute(db.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert services.load_session(token) is None

    def test_unknown_or_missing_token(self, app):
        assert services.load_session("nope") is None
        assert services.load_session(None) is None


class TestPasswordReset:
    def test_reset_link_works_once_and_signs_out_everywhere(self, resident, outbox):
        session_token = services.start_session(resident)
        services.request_password_reset(resident.email)
        token = link_token(outbox[-1].body)
        assert services.check_reset_token(token).id == resident.id
        services.reset_password(token, "copper meadow lantern 5")
        assert services.load_session(session_token) is None
        assert services.authenticate(resident.email, "copper meadow lantern 5")
        with pytest.raises(services.TokenInvalid):
            services.reset_password(token, "another fine password 6")

    def test_link_expires_within_an_hour(self, app, resident, outbox):
        assert app.config["RESET_TOKEN_MAX_AGE"] <= timedelta(hours=1)
        services.request_password_reset(resident.email)
        token_row = db.session.scalar(select(EmailToken))
        assert token_row.expires_at - token_row.created_at <= timedelta(hours=1)
        db.session.execute(db.update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        with pytest.raises(services.TokenInvalid):
            services.check_reset_token(link_token(outbox[-1].body))

    def test_using_one_link_kills_the_others(self, resident, outbox):
        services.request_password_reset(resident.email)
        first = link_token(outbox[-1].body)
        services.request_password_reset(resident.email)
        second = link_token(outbox[-1].body)
        services.reset_password(second, "copper meadow lantern 5")
        with pytest.raises(services.TokenInvalid):
            services.check_reset_token(first)

    def test_unknown_address_sends_nothing(self, app, outbox):
        services.request_password_reset("nobody@example.org")
        services.request_password_reset("not an email")
        assert outbox == []

    def test_weak_new_password_is_refused_and_link_still_works(self, resident, outbox):
        services.request_password_reset(resident.email)
        token = link_token(outbox[-1].body)
        with pytest.raises(services.WeakPassword):
            services.reset_password(token, "short")
        assert services.check_reset_token(token).id == resident.id


class TestChangePassword:
    def test_other_sessions_end_this_one_stays(self, resident):
        other = services.start_session(resident)
        mine = services.start_session(resident)
        resident.session_token = mine
        services.change_password(resident, PASSWORD, "copper meadow lantern 5")
        assert services.load_session(mine) is not None
        assert services.load_session(other) is None

    def test_wrong_current_password(self, resident):
        with pytest.raises(RuleViolation) as caught:
            services.change_password(resident, "not my password", "copper meadow lantern 5")
        assert caught.value.field == "current_password"

    def test_weak_new_password(self, resident):
        with pytest.raises(services.WeakPassword) as caught:
            services.change_password(resident, PASSWORD, "password1234")
        assert caught.value.field == "new_password"


class TestProfile:
    def test_update(self, resident, geography):
        services.update_profile(
            resident, display_name=" Sam ", ward_id=geography.wards[2].id, demographics={"disability": "disabled"}
        )
        assert resident.display_name == "Sam" and resident.ward_id == geography.wards[2].id
        assert resident.disability == "disabled"

    def test_refuses_a_borough_as_ward(self, resident, geography):
        with pytest.raises(services.UnknownWard):
            services.update_profile(resident, display_name="Sam", ward_id=geography.boroughs[0].id, demographics={})


class TestExportAndDelete:
    def test_export_contains_my_data_and_nobody_elses(self, resident, make_user):
        other = make_user(email="other@example.org")
        services.start_session(resident)
        data = services.export_user_data(resident)
        assert data["account"]["email"] == resident.email
        assert data["account"]["ward"]["gss_code"] == resident.ward.gss_code
        assert len(data["sessions"]) == 1
        assert other.email not in repr(data)

    def test_delete_removes_personal_data_and_keeps_the_row(self, resident):
        user_id = resident.id
        services.start_session(resident)
        services.delete_account(resident, PASSWORD)
        user = db.session.get(User, user_id)
        assert user.email is None and user.password_hash is None and user.ward_id is None
        assert user.display_name == FORMER_PARTICIPANT
        assert (user.age_band, user.sex, user.ethnic_group, user.disability) == (None, None, None, None)
        assert user.roles == [] and user.is_deleted
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        assert db.session.scalar(select(AuditEvent.tag)) == "accounts:user:delete"

    def test_delete_needs_the_password(self, resident):
        with pytest.raises(RuleViolation) as caught:
            services.delete_account(resident, "not my password")
        assert caught.value.field == "password"
        assert not resident.is_deleted

    def test_deletion_hooks_run_first(self, resident, monkeypatch):
        seen = []
        monkeypatch.setattr(services, "DELETION_HOOKS", [lambda user: seen.append(user.email)])
        email = resident.email
        services.delete_account(resident, PASSWORD)
        assert seen == [email]

    def test_the_address_can_register_again(self, resident, geography):
        email = resident.email
        services.delete_account(resident, PASSWORD)
        assert services.register_resident(registration(geography, email=email)) is not None


class TestAdministration:
    def test_grant_and_revoke_are_audited(self, admin, resident):
        services.grant_role(admin, resident, Role.OFFICER, reason="Joined the engagement team")
        assert resident.has_role("officer")
        services.revoke_role(admin, resident, Role.OFFICER, reason="Left the team")
        assert not resident.has_role("officer")
        tags = db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq)).all()
        assert tags == ["accounts:role:grant", "accounts:role:revoke"]
        first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq))
        assert first.actor_id == admin.id and first.reason == "Joined the engagement team"
        assert resident.email not in first.details  # no personal data in the log
        assert verify_chain().ok

    def test_councillor_grant_names_a_ward(self, admin, resident, geography):
        with pytest.raises(services.UnknownWard):
            services.grant_role(admin, resident, Role.COUNCILLOR, reason="Elected")
        services.grant_role(admin, resident, Role.COUNCILLOR, reason="Elected", area_id=geography.wards[3].id)
        assert resident.councillor_area_id == geography.wards[3].id

    def test_reason_is_required(self, admin, resident):
        with pytest.raises(RuleViolation) as caught:
            services.grant_role(admin, resident, Role.OFFICER, reason="  ")
        assert caught.value.field == "reason"

    def test_only_admins_manage_roles(self, officer, resident):
        with pytest.raises(NotAllowed):
            services.grant_role(officer, resident, Role.ADMIN, reason="Please")

    def test_no_double_grant_and_no_revoking_what_is_not_held(self, admin, resident):
        with pytest.raises(services.RoleChangeRefused):
            services.grant_role(admin, resident, Role.RESIDENT, reason="again")
        with pytest.raises(services.RoleChangeRefused):
            services.revoke_role(admin, resident, Role.ADMIN, reason="not held")

    def test_admin_cannot_remove_own_admin_role(self, admin):
        with pytest.raises(services.RoleChangeRefused):
            services.revoke_role(admin, admin, Role.ADMIN, reason="oops")

    def test_suspend_and_restore(self, admin, resident):
        until = utcnow() + timedelta(days=7)
        services.suspend_user(admin, resident, reason="Repeated abuse", until=until)
        assert resident.is_suspended and resident.suspension_reason == "Repeated abuse"
        services.restore_user(admin, resident, reason="Appeal upheld")
        assert not resident.is_suspended
        tags = db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq)).all()
        assert tags == ["accounts:user:suspend", "accounts:user:restore"]

    def test_suspension_end_must_be_in_the_future(self, admin, resident):
        with pytest.raises(RuleViolation) as caught:
            services.suspend_user(admin, resident, reason="x", until=utcnow() - timedelta(minutes=1))
        assert caught.value.field == "until"

    def test_cannot_suspend_yourself_or_restore_the_unsuspended(self, admin, resident):
        with pytest.raises(services.RoleChangeRefused):
            services.suspend_user(admin, admin, reason="x")
        with pytest.raises(services.RoleChangeRefused):
            services.restore_user(admin, resident, reason="x")

    def test_residents_cannot_suspend(self, resident, make_user):
        with pytest.raises(NotAllowed):
            services.suspend_user(resident, make_user(), reason="x")

    def test_search(self, admin, make_user):
        make_user(display_name="Zebedee Quill", email="zq@example.org")
        make_user("resident", "officer", display_name="Olive", email="olive@example.org")
        assert [u.email for u in services.search_users("quill").items] == ["zq@example.org"]
        assert [u.email for u in services.search_users("", role="officer").items] == ["olive@example.org"]
        assert services.search_users("%").total == 0  # typed wildcards are matched literally
        assert services.search_users("_").total == 0


class TestCreateAdmin:
    def test_creates_a_verified_admin_once(self, app):
        user = services.create_admin("Boss@Example.org", "granite willow harbour 3")
        again = services.create_admin("boss@example.org", "granite willow harbour 4")
        assert user.id == again.id and user.is_verified
        assert user.role_names == {"admin"}
        assert services.authenticate("boss@example.org", "granite willow harbour 4")

    def test_weak_password_refused(self, app):
        with pytest.raises(services.WeakPassword):
            services.create_admin("boss@example.org", "password")
