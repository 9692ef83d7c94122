"""Registrations: download my data, delete my account, the dashboards' activity source and lookup."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from civic.accounts import services as accounts
from civic.consultations import hooks, services
from civic.consultations.models import Answer, OutcomeEmailOptOut, Response
from civic.core.models import utcnow
from civic.dashboards.metrics import ACTIVITY_SOURCES
from civic.extensions import db
from tests.conftest import PASSWORD
from tests.consultations.conftest import valid_form


def respond(user, consultation, submit=True):
    for page in range(1, services.page_count(consultation) + 1):
        services.save_answers(user, consultation, page, valid_form(consultation))
    if submit:
        services.submit_response(user, consultation)


def close(consultation):
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_registered_once():
    assert hooks.export_responses in accounts.DATA_EXPORTERS
    assert accounts.DELETION_HOOKS.count(hooks.on_account_deleted) == 1
    assert ACTIVITY_SOURCES["response"].label == "Consultation responses" or "response" in ACTIVITY_SOURCES


def test_download_my_data_includes_responses(resident, consultation):
    respond(resident, consultation)
    services.set_outcome_emails(resident, False)
    data = accounts.export_user_data(resident)
    (entry,) = data["consultation_responses"]
    assert entry["slug"] == consultation.slug and entry["submitted_at"]
    assert {a["answer"] for a in entry["answers"]} >= {"Option 1", "Option 1; Option 3", "Agree"}
    assert data["consultation_outcome_emails"] is False


class TestDeletingAnAccount:
    def test_closed_tallies_are_kept_exactly(self, resident, make_user, consultation):
        other = make_user("resident")
        respond(resident, consultation)
        respond(other, consultation)
        close(consultation)
        before = services.tally(consultation)
        before_rows = [[r.count for r in q.rows] for q in before.questions], [q.answered for q in before.questions]
        accounts.delete_account(resident, PASSWORD)
        after = services.tally(consultation)
        assert after.responses == before.responses == 2
        assert ([[r.count for r in q.rows] for q in after.questions], [q.answered for q in after.questions]) == before_rows
        orphan = db.session.scalar(select(Response).where(Response.user_id.is_(None)))
        assert orphan is not None
        # Free text can identify someone: its words go, the answer still counts.
        texts = db.session.scalars(select(Answer.value).where(Answer.response_id == orphan.id, Answer.option_id.is_(None))).all()
        assert "I think" not in " ".join(t or "" for t in texts)

    def test_open_response_is_withdrawn(self, resident, consultation):
        respond(resident, consultation)
        services.set_outcome_emails(resident, False)
        accounts.delete_account(resident, PASSWORD)
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutcomeEmailOptOut)) == 0

    def test_unsent_response_in_a_closed_consultation_goes(self, resident, consultation):
        respond(resident, consultation, submit=False)
        close(consultation)
        accounts.delete_account(resident, PASSWORD)
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_activity_source_counts_submitted_responses_only(resident, make_user, consultation):
    respond(resident, consultation)
    respond(make_user("resident"), consultation, submit=False)
    rows = db.session.execute(hooks._responses()).all()
    assert [(r.user_id, r.consultation_id) for r in rows] == [(resident.id, consultation.id)]
    assert rows[0].occurred_at == services.response_for(resident, consultation).submitted_at


def test_dashboard_lookup_skips_drafts(borough_consultation):
    draft = borough_consultation("draft")
    opened = borough_consultation("open")
    assert [ref.slug for ref in hooks._refs()] == [opened.slug]
    assert hooks._find(opened.slug).id == opened.id
    assert hooks._find(draft.slug) is None


def test_dashboard_page_for_a_consultation(client, login_as, officer, consultation):
    from civic.dashboards import lookups

    lookups.set_consultation_lookup(hooks._refs, hooks._find)  # other tests may have reset it
    login_as(officer)
    assert client.get(f"/dashboard/consultations/{consultation.slug}").status_code == 200
    assert client.get("/dashboard/consultations/nope").status_code == 404
