import pytest

from tests.factories import make_consultation


@pytest.fixture
def consultation(geography):
    """Open, collecting ideas (post-moderation), for the whole authority."""
    return make_consultation([geography.authority], collects_ideas=True)


@pytest.fixture
def author(make_user):
    return make_user("resident")


@pytest.fixture
def idea(consultation, author):
    from tests.factories import make_idea

    return make_idea(consultation, author)


def sign_in(client, user):
    from tests.conftest import PASSWORD

    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client
