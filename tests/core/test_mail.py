from pathlib import Path

import pytest
from sqlalchemy import func, select

from civic import create_app
from civic.core import mail
from civic.core.mail import OutboundEmail, deliver_pending, queue_email
from civic.extensions import db
from tests.conftest import make_config


def queued() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboundEmail))


def test_queued_email_is_sent_and_removed(app, outbox):
    queue_email(
        "someone@example.org", "Hello", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="http://x/v"
    )
    db.session.commit()
    assert queued() == 1
    assert deliver_pending() == (1, 0)
    assert queued() == 0
    assert outbox[-1].to == ["someone@example.org"]
    assert "http://x/v" in outbox[-1].body


def test_rolled_back_action_sends_nothing(app, outbox):
    queue_email("someone@example.org", "Hello", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="x")
    db.session.rollback()
    assert deliver_pending() == (0, 0)
    assert outbox == []


def test_failed_send_stays_queued_and_backs_off(app, monkeypatch):
    queue_email("someone@example.org", "Hello", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="x")
    db.session.commit()

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("flask_mailman.EmailMessage.send", refuse)
    assert deliver_pending() == (0, 1)
    row = db.session.scalar(select(OutboundEmail))
    assert row.attempts == 1 and row.last_error == "ConnectionRefusedError"
    # Claimed for later: an immediate second run does not hammer the server.
    assert deliver_pending() == (0, 0)


def test_each_email_is_claimed_once(app, outbox):
    for n in range(3):
        queue_email(f"p{n}@example.org", "Hi", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="x")
    db.session.commit()
    first = mail._claim(10)
    assert len(first) == 3
    assert mail._claim(10) == []


def test_file_backend_writes_each_email_to_the_outbox_folder(tmp_path):
    config = make_config(f"sqlite:///{tmp_path / 'mail.db'}", MAIL_BACKEND="file", MAIL_FILE_PATH=str(tmp_path / "outbox"))
    app = create_app(config)
    with app.app_context():
        db.create_all()
        for n in range(2):
            queue_email(
                f"p{n}@example.org",
                "Confirm",
                "verify_email",
                user=type("U", (), {"display_name": "Sam"}),
                verify_url=f"http://x/{n}",
            )
        db.session.commit()
        assert deliver_pending() == (2, 0)
        db.session.remove()
        db.engine.dispose()
    files = sorted(Path(tmp_path / "outbox").iterdir())
    assert len(files) == 2
    assert any("http://x/1" in f.read_text() for f in files)


@pytest.mark.parametrize("loop", [False])
def test_deliver_command(app, runner, outbox, loop):
    queue_email("a@example.org", "Hi", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="x")
    db.session.commit()
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output


class _StopLoop(Exception):
    pass


def test_deliver_loop_waits_out_a_database_outage(app, runner, outbox, monkeypatch):
    """The mail worker survives the database going away and sends once it is back."""
    from sqlalchemy.exc import OperationalError

    from civic.core import cli, mail

    queue_email("a@example.org", "Hi", "verify_email", user=type("U", (), {"display_name": "Sam"}), verify_url="x")
    db.session.commit()
    real = mail.deliver_pending
    calls = []

    def flaky(limit=200):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return real(limit)

    def sleep(seconds):
        if len(calls) >= 4:
            raise _StopLoop

    monkeypatch.setattr(mail, "deliver_pending", flaky)
    monkeypatch.setattr(cli.time, "sleep", sleep)
    result = runner.invoke(args=["mail", "deliver", "--loop", "--interval", "0"])
    assert isinstance(result.exception, _StopLoop)
    assert result.output.count("database unavailable") == 2
    assert "sent 1, failed 0" in result.output
    assert len(outbox) == 1


def test_deliver_once_reports_a_database_outage(app, runner, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from civic.core import mail

    def down(limit=200):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(mail, "deliver_pending", down)
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code != 0 and isinstance(result.exception, OperationalError)
