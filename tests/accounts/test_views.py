"""Account pages: flows, enumeration resistance, sessions, redirects, rate limits."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from civic.accounts.models import User, UserSession
from civic.extensions import db
from tests.conftest import PASSWORD, login


def form(geography, **overrides):
    data = {
        "email": "fresh@example.org",
        "display_name": "Fresh Face",
        "password": "maple orchard window 9",
        "ward_id": str(geography.wards[0].id),
        "age_band": "35-44",
    }
    data.update(overrides)
    return data


def link_from(outbox, marker: str) -> str:
    return re.search(rf"http://localhost(/{marker}/\S+)", outbox[-1].body).group(1)


class TestRegister:
    def test_page_explains_why_we_ask(self, client, geography):
        body = client.get("/register").get_data(as_text=True)
        assert "Why we ask" in body
        assert body.count("Prefer not to say") == 4
        for question in (
            "What is your age?",
            "What is your sex?",
            "What is your ethnic group?",
            "Are your day-to-day activities",
        ):
            assert re.search(rf"<legend[^>]*>\s*{re.escape(question)}", body), question
        assert str(escape(geography.wards[0].name)) in body  # ward names are escaped
        assert geography.wards[0].name not in body

    def test_register_verify_sign_in(self, client, geography, outbox):
        response = client.post("/register", data=form(geography))
        assert response.status_code == 302 and response.location.endswith("/register/check-your-email")
        verify = link_from(outbox, "verify")
        assert client.get(verify).status_code == 302
        user = db.session.scalar(select(User).where(User.email == "fresh@example.org"))
        assert user.is_verified and user.age_band == "35-44" and user.sex is None
        assert client.get(verify).status_code == 400  # single use

    def test_known_and_unknown_addresses_look_the_same(self, client, geography, resident, outbox):
        new = client.post("/register", data=form(geography))
        known = client.post("/register", data=form(geography, email=resident.email))
        assert (new.status_code, new.location) == (known.status_code, known.location)
        assert len(outbox) == 2

    def test_errors_are_shown_beside_the_fields_and_nothing_is_saved(self, client, geography):
        response = client.post("/register", data=form(geography, email="nope", password="short", ward_id=""))
        body = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "There is a problem" in body
        assert 'href="#email"' in body and 'href="#password"' in body and 'href="#ward_id"' in body
        assert "Select your ward" in body
        assert db.session.scalar(select(func.count()).select_from(User)) == 0

    def test_service_refusals_are_shown_beside_their_field(self, client, geography):
        response = client.post("/register", data=form(geography, password="password1234"))
        assert response.status_code == 400
        assert "too common" in response.get_data(as_text=True)

    def test_unknown_radio_value_is_refused(self, client, geography):
        response = client.post("/register", data=form(geography, sex="other"))
        assert response.status_code == 400
        assert db.session.scalar(select(func.count()).select_from(User)) == 0

    def test_signed_in_people_are_sent_to_their_account(self, client, resident):
        login(client, resident)
        assert client.get("/register").location.endswith("/account")

    def test_registration_is_rate_limited(self, app, client, geography):
        limit = int(app.config["RATELIMIT_REGISTER"].split()[0])
        for n in range(limit):
            client.post("/register", data=form(geography, email=f"p{n}@example.org"))
        response = client.post("/register", data=form(geography, email="late@example.org"))
        assert response.status_code == 429
        assert "Try again in" in response.get_data(as_text=True)
        assert int(response.headers["Retry-After"]) > 0


class TestSignIn:
    def test_same_answer_for_unknown_email_and_wrong_password(self, client, resident):
        unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": PASSWORD})
        wrong = client.post("/sign-in", data={"email": resident.email, "password": "wrong password"})
        assert unknown.status_code == wrong.status_code == 400
        message = "Enter a correct email address and password"
        assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)

    def test_sign_in_rotates_the_session(self, client, resident):
        client.get("/")
        with client.session_transaction() as s:
            s["planted"] = "fixation"
        login(client, resident)
        with client.session_transaction() as s:
            assert "planted" not in s
            first_token = s["_user_id"]
        client.post("/sign-out", data={})
        login(client, resident)
        with client.session_transaction() as s:
            assert s["_user_id"] != first_token

    def test_sign_out_ends_the_session_on_the_server(self, app, client, resident):
        login(client, resident)
        captured = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        assert client.get("/account").status_code == 200
        client.post("/sign-out", data={})
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        attacker = app.test_client()
        attacker.set_cookie(app.config["SESSION_COOKIE_NAME"], captured)
        response = attacker.get("/account")
        assert response.status_code == 302 and "/sign-in" in response.location

    def test_idle_session_expires(self, app, client, resident):
        login(client, resident)
        with client.session_transaction() as s:
            s["seen"] = s["seen"] - int(app.config["SESSION_IDLE_TIMEOUT"].total_seconds()) - 1
        assert client.get("/account").status_code == 302

    def test_sign_out_page_asks_to_confirm(self, client, resident):
        login(client, resident)
        assert "Sign out" in client.get("/sign-out").get_data(as_text=True)
        assert client.get("/account").status_code == 200  # GET did not sign out

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "%2F%2Fevil.example",
        ],
    )
    def test_next_never_leads_off_site(self, client, resident, target):
        response = client.post(f"/sign-in?next={target}", data={"email": resident.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response.location == "/"

    def test_next_on_this_site_is_followed(self, client, resident):
        response = client.post("/sign-in?next=/account/details", data={"email": resident.email, "password": PASSWORD})
        assert response.location == "/account/details"

    def test_protected_page_sends_you_back_after_sign_in(self, client, resident):
        response = client.get("/account/password")
        assert "/sign-in?next=/account/password" in response.location

    def test_per_account_limit(self, app, client, resident):
        limit = int(app.config["RATELIMIT_SIGN_IN_ACCOUNT"].split()[0])
        for n in range(limit):
            # Different addresses each time: only the per-account key can add up.
            client.post(
                "/sign-in", data={"email": resident.email, "password": "wrong"}, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}
            )
        blocked = client.post(
            "/sign-in", data={"email": resident.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.1.1"}
        )
        assert blocked.status_code == 429
        other = client.post(
            "/sign-in", data={"email": "someone@example.org", "password": "x"}, environ_base={"REMOTE_ADDR": "10.0.1.1"}
        )
        assert other.status_code == 400  # another account from that address is still allowed

    def test_per_address_limit(self, app, client, resident):
        limit = int(app.config["RATELIMIT_SIGN_IN_ADDRESS"].split()[0])
        for n in range(limit):
            client.post("/sign-in", data={"email": f"p{n}@example.org", "password": "x"})
        assert client.post("/sign-in", data={"email": resident.email, "password": PASSWORD}).status_code == 429

    def test_forwarded_for_does_not_reset_the_address_limit(self, app, client):
        limit = int(app.config["RATELIMIT_SIGN_IN_ADDRESS"].split()[0])
        for n in range(limit + 1):
            response = client.post(
                "/sign-in", data={"email": f"p{n}@example.org", "password": "x"}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
            )
        assert response.status_code == 429


class TestPasswordReset:
    def test_same_page_for_known_and_unknown(self, client, resident, outbox):
        known = client.post("/reset-password", data={"email": resident.email})
        unknown = client.post("/reset-password", data={"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert known.get_data(as_text=True).split("<main")[1] == unknown.get_data(as_text=True).split("<main")[1]
        assert len(outbox) == 1

    def test_full_reset(self, client, resident, outbox):
        client.post("/reset-password", data={"email": resident.email})
        link = link_from(outbox, "reset-password")
        assert client.get(link).status_code == 200
        bad = client.post(link, data={"password": "short"})
        assert bad.status_code == 400 and "12 characters" in bad.get_data(as_text=True)
        done = client.post(link, data={"password": "copper meadow lantern 5"})
        assert done.status_code == 302 and done.location.endswith("/sign-in")
        assert client.get(link).status_code == 400
        login(client, resident, "copper meadow lantern 5")

    def test_reset_is_rate_limited(self, app, client):
        limit = int(app.config["RATELIMIT_RESET"].split()[0])
        for _ in range(limit):
            client.post("/reset-password", data={"email": "nobody@example.org"})
        assert client.post("/reset-password", data={"email": "nobody@example.org"}).status_code == 429


class TestAccountPages:
    @pytest.mark.parametrize("path", ["/account", "/account/details", "/account/password", "/account/delete"])
    def test_require_sign_in(self, client, path):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location

    def test_account_page_shows_details_escaped(self, client, resident):
        login(client, resident)
        body = client.get("/account").get_data(as_text=True)
        assert resident.email in body
        assert "<script>alert" not in body and "&lt;script&gt;" in body

    def test_unverified_account_can_resend(self, client, make_user, outbox):
        user = make_user(verified=False)
        login(client, user)
        assert "Send the link again" in client.get("/account").get_data(as_text=True)
        client.post("/verify/resend", data={})
        assert outbox[-1].to == [user.email]

    def test_edit_details(self, client, resident, geography):
        login(client, resident)
        response = client.post(
            "/account/details", data={"display_name": "Robin", "ward_id": str(geography.wards[3].id), "disability": "disabled"}
        )
        assert response.status_code == 302
        db.session.refresh(resident)
        assert (resident.display_name, resident.ward_id, resident.disability) == ("Robin", geography.wards[3].id, "disabled")

    def test_edit_details_refuses_bad_input_and_changes_nothing(self, client, resident):
        login(client, resident)
        response = client.post("/account/details", data={"display_name": "", "ward_id": "abc"})
        assert response.status_code == 400
        db.session.refresh(resident)
        assert resident.display_name.startswith("Person")

    def test_change_password_keeps_me_signed_in(self, client, resident):
        login(client, resident)
        response = client.post(
            "/account/password", data={"current_password": PASSWORD, "new_password": "copper meadow lantern 5"}
        )
        assert response.status_code == 302
        assert client.get("/account").status_code == 200

    def test_change_password_errors(self, client, resident):
        login(client, resident)
        response = client.post("/account/password", data={"current_password": "wrong", "new_password": "copper meadow lantern 5"})
        assert response.status_code == 400 and "current password is not correct" in response.get_data(as_text=True)

    def test_download_my_data(self, client, resident):
        login(client, resident)
        assert client.get("/account/data.json").status_code == 405  # POST only
        response = client.post("/account/data.json", data={})
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
        assert response.json["account"]["email"] == resident.email
        assert response.headers["Cache-Control"] == "no-store"

    def test_delete_account(self, client, resident):
        login(client, resident)
        refused = client.post("/account/delete", data={"password": PASSWORD})
        assert refused.status_code == 400 and "Confirm that you want" in refused.get_data(as_text=True)
        response = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
        assert response.status_code == 302
        db.session.refresh(resident)
        assert resident.is_deleted
        assert client.get("/account").status_code == 302

    def test_suspended_person_sees_why(self, client, resident):
        from civic.core.models import utcnow

        resident.suspended_at = utcnow()
        resident.suspension_reason = "Posting other people's addresses"
        db.session.commit()
        login(client, resident)
        body = client.get("/account").get_data(as_text=True)
        assert "Your account is suspended" in body and "Posting other people&#39;s addresses" in body
