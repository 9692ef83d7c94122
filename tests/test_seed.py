from sqlalchemy import func, select

from civic import create_app
from civic.accounts.models import User
from civic.areas.models import Area, AreaBaseline
from civic.core.mail import OutboundEmail
from civic.extensions import db
from civic.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, RESIDENTS
from tests.conftest import make_config


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Area)),
        db.session.scalar(select(func.count()).select_from(AreaBaseline)),
    )


def test_demo_is_believable_and_idempotent(runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    for account in DEMO_ACCOUNTS:
        assert account.email in first.output
    after_first = counts()
    assert after_first[0] == RESIDENTS + len(DEMO_ACCOUNTS)
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert counts() == after_first
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail)) == 0


def test_demo_geography_has_boundaries_and_baselines(runner):
    runner.invoke(args=["seed", "demo"])
    wards = db.session.scalars(select(Area).where(Area.level == "ward")).all()
    assert len(wards) == 42
    assert all(w.boundary and w.population and w.parent.level == "district" for w in wards)
    authority = db.session.scalar(select(Area).where(Area.level == "authority"))
    assert authority.population == sum(w.population for w in wards)


def test_demo_participation_is_skewed_against_the_baseline(runner):
    """Older people are over-represented among demo residents, as in real participation."""
    runner.invoke(args=["seed", "demo"])
    residents = db.session.scalars(select(User).where(User.email.like("resident%"))).all()
    answered = [u.age_band for u in residents if u.age_band and u.age_band != "prefer_not_to_say"]
    older_share = sum(band in ("55-64", "65-74", "75+") for band in answered) / len(answered)
    authority = db.session.scalar(select(Area).where(Area.level == "authority"))
    bands = {b.category: b.count for b in authority.baselines if b.dimension == "age_band"}
    baseline_share = (bands["55-64"] + bands["65-74"] + bands["75+"]) / sum(bands.values())
    assert older_share > baseline_share + 0.1
    assert any(u.age_band == "prefer_not_to_say" for u in residents)
    assert any(u.email_verified_at is None for u in residents)


def test_demo_accounts_can_sign_in(runner, client):
    runner.invoke(args=["seed", "demo"])
    for account in DEMO_ACCOUNTS:
        response = client.post("/sign-in", data={"email": account.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, account.email
        client.post("/sign-out", data={})


def test_if_empty_leaves_existing_data_alone(runner, resident):
    result = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert "already has data" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_refused_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x7Qm2vLr9TzK4pWn8YcB3hJs6DfG1aEu0RoI5kNt")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    app = create_app("production")
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 1 and "only for development" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
        db.engine.dispose()


def test_sign_ins_command(runner):
    assert "admin@example.org" in runner.invoke(args=["seed", "sign-ins"]).output


def test_testing_config_is_not_production():
    assert make_config("sqlite://").DEMO_ACCOUNTS_ALLOWED
