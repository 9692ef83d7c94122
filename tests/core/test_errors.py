"""Error pages: the service's look, the right status, and nothing leaked."""

import pytest
from sqlalchemy.exc import OperationalError

from civic import create_app
from civic.extensions import db
from tests.conftest import login, make_config


@pytest.fixture
def broken_app(app):
    """A second app on the same database, with routes that fail in the ways we care about."""
    config = make_config(app.config["SQLALCHEMY_DATABASE_URI"])
    failing = create_app(config)

    @failing.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @failing.route("/db-down", methods=["GET", "POST"])
    def db_down():
        raise OperationalError("INSERT …", {}, Exception("could not connect to server"))

    @failing.route("/after-lost-connection")
    def after_lost_connection():
        # What SQLAlchemy raises for the next query once an earlier one lost its connection and
        # the error was swallowed (flask-limiter does that in its key functions).
        from sqlalchemy.exc import PendingRollbackError

        raise PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")

    failing.test_client_class = app.test_client_class
    yield failing
    with failing.app_context():
        db.session.remove()
        db.engine.dispose()


def test_500_page_hides_internals_and_gives_a_reference(broken_app):
    response = broken_app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in body
    assert "Nothing was saved" in body
    assert "secret internals" not in body and "Traceback" not in body
    assert "quote reference" in body
    assert "Content-Security-Policy" in response.headers


def test_database_outage_is_a_503_that_says_nothing_was_saved(broken_app):
    response = broken_app.test_client().post("/db-down", data={})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = response.get_data(as_text=True)
    assert "Nothing was saved" in body and "cannot reach our database" in body


def test_a_query_refused_after_a_lost_connection_is_a_503_not_a_500(broken_app):
    response = broken_app.test_client().get("/after-lost-connection")
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_unreachable_database_gives_503_on_pages_that_need_it(tmp_path):
    config = make_config(f"sqlite:///{tmp_path}/missing-dir/none.db")
    app = create_app(config)
    client = app.test_client()
    response = client.get("/areas")
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_405_page(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused_with_a_clear_page(client, resident):
    response = client.post("/sign-in", data={"email": resident.email, "password": "x"}, csrf=False)
    assert response.status_code == 400
    assert "Your form has expired" in response.get_data(as_text=True)


def test_forged_csrf_token_is_refused(client, resident):
    response = client.post("/sign-in", data={"email": resident.email, "password": "x", "csrf_token": "forged"})
    assert response.status_code == 400


def test_every_state_changing_route_requires_csrf(app, client, resident):
    """AZ-06: post to every POST route without a token; none may act."""
    login(client, resident)
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert rules
    for rule in rules:
        url = rule.rule.replace("<int:user_id>", str(resident.id)).replace("<user_id>", str(resident.id))
        url = url.replace("<role>", "resident").replace("<token>", "abc")
        url = url.replace("<kind>", "idea").replace("<int:item_id>", "1")  # moderation
        url = url.replace("<slug>", "a-slug").replace("<int:idea_id>", "1").replace("<int:comment_id>", "1")
        url = url.replace("<slug>", "a-slug").replace("<int:page>", "1").replace("<int:question_id>", "1")  # consultations
        for part in ("<", ">"):
            assert part not in url, f"add a sample value for {rule.rule}"
        response = client.post(url, data={}, csrf=False)
        assert response.status_code == 400, (rule.rule, response.status_code)
