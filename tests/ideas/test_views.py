"""Pages and routes: rendering, refusals as pages, no-JS and JSON supports, rate limits, N+1."""

from markupsafe import escape
from sqlalchemy import event, select

from civic.core import memo
from civic.extensions import db
from civic.ideas import services
from civic.ideas.models import Comment, Idea
from tests.factories import XSS, make_comment, make_idea
from tests.ideas.conftest import sign_in


def test_in05_in06_pages_render_and_escape(client, consultation, idea, make_user):
    make_comment(idea, make_user("resident"))
    list_page = client.get(f"/consultations/{consultation.slug}/ideas")
    assert list_page.status_code == 200
    assert XSS not in list_page.text and "&lt;script&gt;" in list_page.text
    detail = client.get(f"/ideas/{idea.id}")
    assert detail.status_code == 200 and 'href="javascript' not in detail.text and XSS not in detail.text
    assert "Sign in to support this idea" in detail.text


def test_random_sort_puts_seed_in_url(client, consultation):
    response = client.get(f"/consultations/{consultation.slug}/ideas?sort=random")
    assert response.status_code == 302 and "seed=" in response.location


def test_pending_idea_is_404_for_others(client, consultation, author, make_user):
    pending = make_idea(consultation, author, status="pending")
    assert client.get(f"/ideas/{pending.id}").status_code == 404
    sign_in(client, author)
    assert client.get(f"/ideas/{pending.id}").status_code == 200


def test_propose_check_similar_then_post(client, consultation, author, make_user):
    make_idea(consultation, make_user("resident"), title="Zebra crossing by the school")
    sign_in(client, author)
    data = {"title": "A crossing by the school", "body": "Please", "category": "Transport", "ward_id": ""}
    checked = client.post(f"/consultations/{consultation.slug}/ideas/new", data={**data, "check": "1"})
    assert checked.status_code == 200 and "Zebra crossing by the school" in checked.text
    posted = client.post(f"/consultations/{consultation.slug}/ideas/new", data={**data, "submit": "1"})
    assert posted.status_code == 303
    again = client.post(f"/consultations/{consultation.slug}/ideas/new", data={**data, "submit": "1"})
    assert again.status_code == 400 and "already posted" in again.text


def test_similar_json(client, consultation, idea):
    response = client.get(f"/consultations/{consultation.slug}/ideas/similar.json?title=Idea")
    assert response.status_code == 200 and response.json[0]["id"] == idea.id


def test_support_without_js_and_with_json(client, idea, make_user):
    fan = make_user("resident")
    sign_in(client, fan)
    plain = client.post(f"/ideas/{idea.id}/support")
    assert plain.status_code == 303
    as_json = client.post(f"/ideas/{idea.id}/support", headers={"Accept": "application/json"})
    assert as_json.json == {"idea_id": idea.id, "supported": True, "count": 1}
    undone = client.post(f"/ideas/{idea.id}/unsupport", headers={"Accept": "application/json"})
    assert undone.json["count"] == 0


def test_support_refusals(client, idea, author, make_user):
    assert client.post(f"/ideas/{idea.id}/support").status_code == 302  # to sign in
    sign_in(client, author)
    own = client.post(f"/ideas/{idea.id}/support", headers={"Accept": "application/json"})
    assert own.status_code == 403 and "own idea" in own.json["error"]
    assert client.post(f"/ideas/{idea.id}/support").status_code == 403
    assert client.post(f"/ideas/{idea.id}/support", csrf=False).status_code == 400


def test_officer_cannot_support_and_can_respond(client, idea, make_user, outbox):
    officer = make_user("officer")
    sign_in(client, officer)
    assert client.post(f"/ideas/{idea.id}/support").status_code == 403
    bad = client.post(f"/ideas/{idea.id}/response", data={"status": "", "text": ""})
    assert bad.status_code == 400
    ok = client.post(f"/ideas/{idea.id}/response", data={"status": "accepted", "text": f"Yes {XSS}"})
    assert ok.status_code == 303
    page = client.get(f"/ideas/{idea.id}")
    assert "Accepted" in page.text and XSS not in page.text


def test_comment_reply_edit_delete(client, idea, make_user):
    sign_in(client, make_user("resident"))
    assert client.post(f"/ideas/{idea.id}/comments", data={"body": "Hello"}).status_code == 303
    top = db.session.scalar(select(Comment))
    assert client.post(f"/ideas/{idea.id}/comments", data={"body": "Hi", "parent_id": str(top.id)}).status_code == 303
    assert client.post(f"/ideas/{idea.id}/comments", data={"body": ""}).status_code == 400
    assert client.post(f"/comments/{top.id}/edit", data={"body": "Hello again"}).status_code == 303
    assert client.post(f"/comments/{top.id}/delete").status_code == 303
    page = client.get(f"/ideas/{idea.id}")
    assert "Comment removed" in page.text and "Hi" in page.text


def test_report_routes(client, idea, make_user):
    comment = make_comment(idea, make_user("resident"))
    sign_in(client, make_user("resident"))
    assert client.get(f"/ideas/{idea.id}/report").status_code == 200
    assert client.post(f"/ideas/{idea.id}/report", data={}).status_code == 400
    assert client.post(f"/ideas/{idea.id}/report", data={"reason": "spam"}).status_code == 303
    again = client.post(f"/ideas/{idea.id}/report", data={"reason": "spam"})
    assert again.status_code == 400 and "already reported" in again.text
    assert client.post(f"/comments/{comment.id}/report", data={"reason": "offensive"}).status_code == 303


def test_rate_limit_on_ideas(app, client, consultation, author):
    app.config["RATELIMIT_IDEAS"] = "2 per hour"
    try:
        sign_in(client, author)
        url = f"/consultations/{consultation.slug}/ideas/new"
        for n in range(2):
            data = {"title": f"Idea {n}", "body": "b", "category": "Transport", "submit": "1"}
            assert client.post(url, data=data).status_code == 303
        # A refused post (a mistake in the form) does not use up the allowance...
        limited = client.post(url, data={"title": "Idea 9", "body": "b", "category": "Transport", "submit": "1"})
        assert limited.status_code == 429
        assert "Try again in" in limited.text
    finally:
        app.config["RATELIMIT_IDEAS"] = "5 per hour"


def test_rate_limit_on_comments_counts_only_saved(app, client, idea, make_user):
    app.config["RATELIMIT_COMMENTS"] = "2 per 10 minutes"
    try:
        sign_in(client, make_user("resident"))
        url = f"/ideas/{idea.id}/comments"
        assert client.post(url, data={"body": ""}).status_code == 400  # not counted
        assert client.post(url, data={"body": "one"}).status_code == 303
        assert client.post(url, data={"body": "two"}).status_code == 303
        assert client.post(url, data={"body": "three"}).status_code == 429
    finally:
        app.config["RATELIMIT_COMMENTS"] = "10 per 10 minutes"


def test_manage_page(client, consultation, make_user):
    sign_in(client, make_user("resident"))
    assert client.get(f"/manage/consultations/{consultation.slug}/ideas").status_code == 403
    client.post("/sign-out")
    sign_in(client, make_user("officer"))
    assert client.get(f"/manage/consultations/{consultation.slug}/ideas").status_code == 200
    data = {"enabled": "yes", "moderation": "pre", "threshold": "50", "categories": "Roads\nParks"}
    assert client.post(f"/manage/consultations/{consultation.slug}/ideas", data=data).status_code == 303
    bad = client.post(f"/manage/consultations/{consultation.slug}/ideas", data={**data, "threshold": "0"})
    assert bad.status_code == 400


def _count_statements(client, url, *, remembered: bool = False):
    """Statements one request issues; from cold (nothing remembered: civic/core/memo.py) unless
    ``remembered``, when the request before it has left its reference data and cards behind."""
    if not remembered:
        memo.clear_all()
    statements = []

    def before(conn, cursor, statement, *args):
        if statement.strip().upper() != "BEGIN":  # SQLite's explicit BEGIN (civic/core/db.py) is not a query
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(statements)


def test_list_page_statement_count_does_not_grow_with_page_size(client, consultation, make_user):
    authors = [make_user("resident") for _ in range(3)]
    url = f"/consultations/{consultation.slug}/ideas?sort=top"
    make_idea(consultation, authors[0])
    one = _count_statements(client, url)
    for n in range(30):
        make_idea(consultation, authors[n % 3], category=["Transport", "Parks"][n % 2])
    full = _count_statements(client, url)
    assert full == one, (one, full)
    assert full <= 15
    # Warm, a page is the consultation, its collection and one index statement.
    assert _count_statements(client, url, remembered=True) <= 3
    assert db.session.scalar(select(Idea.id).limit(1))


def test_list_cards_are_never_stale(client, consultation, make_user):
    """Cards are rendered once per distinct content: a support, an edit or a response shows at once."""
    idea = make_idea(consultation, make_user("resident"), title="Fix the lights")
    url = f"/consultations/{consultation.slug}/ideas?sort=top"
    assert "0 supports" in client.get(url).get_data(as_text=True)
    supporter = make_user("resident")
    services.support_idea(supporter, idea.id)
    page = client.get(url).get_data(as_text=True)
    assert "1 support<" in page and "0 supports" not in page
    idea.title = "Fix the street lights"
    db.session.commit()
    assert "Fix the street lights" in client.get(url).get_data(as_text=True)
    officer = make_user("officer")
    services.respond_to_idea(officer, idea, "accepted", "We will.")
    assert "Accepted" in client.get(url).get_data(as_text=True)
    services.unsupport_idea(supporter, idea.id)
    assert "0 supports" in client.get(url).get_data(as_text=True)


def test_az03_others_ideas_and_comments_cannot_be_changed(client, idea, make_user):
    theirs = make_comment(idea, make_user("resident"), body="Original")
    sign_in(client, make_user("resident"))
    assert client.post(f"/ideas/{idea.id}/edit", data={"title": "Hijacked", "body": "x"}).status_code == 403
    assert client.post(f"/comments/{theirs.id}/edit", data={"body": "Hijacked"}).status_code == 403
    client.post(f"/comments/{theirs.id}/delete")
    client.post(f"/ideas/{idea.id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).title != "Hijacked" and db.session.get(Idea, idea.id).withdrawn_at is None
    comment = db.session.get(Comment, theirs.id)
    assert comment.body == "Original" and comment.deleted_at is None


def test_az06_state_changes_need_the_form_token(client, idea, make_user):
    sign_in(client, make_user("resident"))
    for path, data in [
        (f"/ideas/{idea.id}/support", {}),
        (f"/ideas/{idea.id}/unsupport", {}),
        (f"/ideas/{idea.id}/comments", {"body": "x"}),
        (f"/ideas/{idea.id}/report", {"reason": "spam"}),
    ]:
        assert client.post(path, data=data, csrf=False).status_code == 400, path
    assert db.session.scalar(select(Comment.id)) is None


def test_in01_list_query_parameters_are_escaped(client, consultation):
    payload = '"><svg onload=alert(1)>'
    page = client.get(f"/consultations/{consultation.slug}/ideas", query_string={"q": payload, "sort": payload, "page": payload})
    assert page.status_code == 200 and payload not in page.text


def test_ward_filter_lists_the_wards_in_scope_with_the_chosen_one_selected(client, consultation, geography):
    first, second = geography.wards[0], geography.wards[1]
    second.name = f"Ward {XSS}"
    db.session.commit()
    url = f"/consultations/{consultation.slug}/ideas"
    page = client.get(url).get_data(as_text=True)
    assert f'<option value="{first.id}">{escape(first.name)}</option>' in page
    assert XSS not in page and "Ward &lt;script&gt;" in page
    chosen = client.get(f"{url}?ward={first.id}").get_data(as_text=True)
    assert f'<option value="{first.id}" selected>{escape(first.name)}</option>' in chosen
    assert f'<option value="{second.id}">' in chosen
