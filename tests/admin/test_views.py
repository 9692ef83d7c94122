"""AZ-01/AZ-02: admin routes refuse everyone but admins; every change is audited."""

import pytest
from sqlalchemy import select

from civic.core.audit import AuditEvent
from civic.extensions import db
from tests.conftest import login


@pytest.fixture
def target(make_user):
    return make_user(display_name="Target Person", email="target@example.org")


def routes(target_id: int):
    return [
        ("get", "/admin/users", None),
        ("get", f"/admin/users/{target_id}", None),
        ("post", f"/admin/users/{target_id}/roles", {"grant-role": "officer", "grant-reason": "x"}),
        ("post", f"/admin/users/{target_id}/roles/resident/remove", {"revoke-reason": "x"}),
        ("post", f"/admin/users/{target_id}/suspend", {"suspend-reason": "x"}),
        ("post", f"/admin/users/{target_id}/restore", {"restore-reason": "x"}),
    ]


def call(client, method, url, data):
    if method == "get":
        return client.get(url)
    prefix = next(iter(data)).split("-")[0]
    return client.post(url, data=data, csrf_field=f"{prefix}-csrf_token")


@pytest.mark.parametrize("role", [None, "resident", "councillor", "officer"])
def test_everyone_but_admins_is_refused(client, make_user, target, role):
    if role:
        login(client, make_user(role))
    for method, url, data in routes(target.id):
        response = call(client, method, url, data)
        if role is None:
            assert response.status_code == 302 and "/sign-in" in response.location, url
        else:
            assert response.status_code == 403, url
    assert db.session.scalar(select(AuditEvent)) is None
    db.session.refresh(target)
    assert target.role_names == {"resident"} and not target.is_suspended


class TestAsAdmin:
    @pytest.fixture(autouse=True)
    def _signed_in(self, client, admin):
        login(client, admin)

    def test_search(self, client, target):
        body = client.get("/admin/users?q=target").get_data(as_text=True)
        assert "target@example.org" in body and "1 account" in body
        assert "No accounts match" in client.get("/admin/users?q=zzzz").get_data(as_text=True)

    def test_search_ignores_an_unknown_role(self, client):
        assert client.get("/admin/users?role=superuser").status_code == 200

    def test_missing_user_is_404(self, client):
        assert client.get("/admin/users/999999").status_code == 404

    def test_grant_role_with_reason(self, client, target):
        response = client.post(
            f"/admin/users/{target.id}/roles",
            data={"grant-role": "officer", "grant-reason": "New starter"},
            csrf_field="grant-csrf_token",
        )
        assert response.status_code == 302
        db.session.refresh(target)
        assert target.has_role("officer")
        event = db.session.scalar(select(AuditEvent))
        assert (event.tag, event.reason, event.subject_id) == ("accounts:role:grant", "New starter", str(target.id))
        page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
        assert "New starter" in page and "accounts:role:grant" in page

    def test_grant_without_reason_shows_the_error(self, client, target):
        response = client.post(f"/admin/users/{target.id}/roles", data={"grant-role": "officer"}, csrf_field="grant-csrf_token")
        assert response.status_code == 400
        assert "Enter a reason" in response.get_data(as_text=True)
        db.session.refresh(target)
        assert not target.has_role("officer")

    def test_councillor_needs_a_ward(self, client, target, geography):
        response = client.post(
            f"/admin/users/{target.id}/roles",
            data={"grant-role": "councillor", "grant-reason": "Elected"},
            csrf_field="grant-csrf_token",
        )
        assert response.status_code == 400 and "Select your ward" in response.get_data(as_text=True)
        ok = client.post(
            f"/admin/users/{target.id}/roles",
            data={"grant-role": "councillor", "grant-reason": "Elected", "grant-area_id": str(geography.wards[1].id)},
            csrf_field="grant-csrf_token",
        )
        assert ok.status_code == 302
        db.session.refresh(target)
        assert target.councillor_area_id == geography.wards[1].id

    def test_revoke_role(self, client, target):
        response = client.post(
            f"/admin/users/{target.id}/roles/resident/remove",
            data={"revoke-reason": "Moved away"},
            csrf_field="revoke-csrf_token",
        )
        assert response.status_code == 302
        db.session.refresh(target)
        assert target.role_names == set()

    def test_unknown_role_is_404(self, client, target):
        response = client.post(
            f"/admin/users/{target.id}/roles/emperor/remove", data={"revoke-reason": "x"}, csrf_field="revoke-csrf_token"
        )
        assert response.status_code == 404

    def test_suspend_until_a_date_then_restore(self, client, target):
        response = client.post(
            f"/admin/users/{target.id}/suspend",
            data={"suspend-reason": "Spam", "suspend-until": ["1", "1", "2099"]},
            csrf_field="suspend-csrf_token",
        )
        assert response.status_code == 302
        db.session.refresh(target)
        assert target.is_suspended and target.suspended_until.year == 2099
        response = client.post(
            f"/admin/users/{target.id}/restore", data={"restore-reason": "Appeal"}, csrf_field="restore-csrf_token"
        )
        assert response.status_code == 302
        db.session.refresh(target)
        assert not target.is_suspended

    def test_suspend_with_a_past_or_invalid_date(self, client, target):
        past = client.post(
            f"/admin/users/{target.id}/suspend",
            data={"suspend-reason": "Spam", "suspend-until": ["1", "1", "2001"]},
            csrf_field="suspend-csrf_token",
        )
        assert past.status_code == 400 and "must be in the future" in past.get_data(as_text=True)
        nonsense = client.post(
            f"/admin/users/{target.id}/suspend",
            data={"suspend-reason": "Spam", "suspend-until": ["31", "2", "2030"]},
            csrf_field="suspend-csrf_token",
        )
        assert nonsense.status_code == 400
        db.session.refresh(target)
        assert not target.is_suspended

    def test_restore_when_not_suspended(self, client, target):
        response = client.post(f"/admin/users/{target.id}/restore", data={"restore-reason": "x"}, csrf_field="restore-csrf_token")
        assert response.status_code == 400 and "not suspended" in response.get_data(as_text=True)

    def test_deleted_accounts_are_not_listed_or_editable(self, client, target):
        from civic.accounts.services import delete_account
        from tests.conftest import PASSWORD

        delete_account(target, PASSWORD)
        assert client.get(f"/admin/users/{target.id}").status_code == 404
        assert "target@example.org" not in client.get("/admin/users").get_data(as_text=True)
