"""/admin/audit: admins only, filters, paging, verification, and everything escaped (D10)."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from civic.core.audit import AuditEvent, EventTag, record_event
from civic.core.models import utcnow
from civic.extensions import db
from tests.conftest import login
from tests.factories import XSS


@pytest.fixture
def log(admin, resident):
    for n in range(3):
        record_event(
            EventTag.ACCOUNT_ROLE_GRANT,
            actor=admin,
            subject_type="user",
            subject_id=resident.id,
            reason=f"grant {n} {XSS}",
            details={"role": XSS},
        )
    record_event(EventTag.ACCOUNT_USER_SUSPEND, actor=admin, subject_type="user", subject_id=resident.id, reason="spam")
    db.session.commit()


@pytest.mark.parametrize("role", [None, "resident", "councillor", "officer"])
def test_only_admins(client, make_user, role):
    if role:
        login(client, make_user(role))
    response = client.get("/admin/audit")
    assert response.status_code == (302 if role is None else 403)
    assert client.post("/admin/audit/verify", data={}).status_code == (302 if role is None else 403)
    if role is None:
        assert "/sign-in" in response.location


class TestAsAdmin:
    @pytest.fixture(autouse=True)
    def _signed_in(self, client, admin):
        login(client, admin)

    def test_lists_entries_escaped(self, client, log):
        body = client.get("/admin/audit").get_data(as_text=True)
        assert body.count("accounts:role:grant") >= 3 and "accounts:user:suspend" in body
        assert XSS not in body and "&lt;script&gt;" in body

    def test_filter_by_action_and_actor(self, client, log, admin):
        body = client.get("/admin/audit?tag=accounts:user:suspend").get_data(as_text=True)
        assert "spam" in body and "grant 0" not in body
        assert "grant 1" in client.get(f"/admin/audit?actor={admin.email}").get_data(as_text=True)
        unknown = client.get("/admin/audit?actor=nobody@example.org")
        assert unknown.status_code == 400 and "No account has that email address" in unknown.get_data(as_text=True)

    def test_filter_by_dates(self, client, log):
        today = utcnow()
        tomorrow = today + timedelta(days=1)
        body = client.get(
            f"/admin/audit?since-day={today.day}&since={today.day}&since={today.month}&since={today.year}"
        ).get_data(as_text=True)
        assert "spam" in body
        body = client.get(f"/admin/audit?since={tomorrow.day}&since={tomorrow.month}&since={tomorrow.year}").get_data(
            as_text=True
        )
        assert "No entries match" in body
        bad = client.get("/admin/audit?since=31&since=2&since=2026")
        assert bad.status_code == 400

    def test_keyset_paging(self, client, admin):
        for n in range(55):
            record_event(EventTag.ACCOUNT_ROLE_GRANT, actor=admin, subject_type="user", subject_id=n)
        db.session.commit()
        first = client.get("/admin/audit").get_data(as_text=True)
        assert "Older entries" in first and "before=6" in first
        second = client.get("/admin/audit?before=6").get_data(as_text=True)
        assert "Older entries" not in second

    def test_verify_button(self, client, log):
        ok = client.post("/admin/audit/verify", data={}, follow_redirects=True).get_data(as_text=True)
        assert "The audit log verifies: 4 entries" in ok
        db.session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(reason="rewritten"))
        db.session.commit()
        bad = client.post("/admin/audit/verify", data={}, follow_redirects=True).get_data(as_text=True)
        assert "does NOT verify: entry 2 has been altered" in bad
