"""The shared factories build consultations, ideas and comments in every stage."""

import pytest

from civic.consultations.lifecycle import Stage
from tests.factories import make_comment, make_consultation, make_idea


@pytest.mark.parametrize("stage", list(Stage))
def test_factory_builds_each_stage(geography, resident, stage):
    consultation = make_consultation([geography.authority], stage=stage.value, questions=4, collects_ideas=True)
    assert consultation.stage() == stage
    assert [q.kind for q in consultation.questions] == ["single_choice", "multiple_choice", "scale", "free_text"]


def test_idea_and_reply(geography, resident):
    consultation = make_consultation([geography.authority], collects_ideas=True)
    idea = make_idea(consultation, resident)
    top = make_comment(idea, resident)
    reply = make_comment(idea, resident, parent=top)
    assert reply.parent_id == top.id
    assert idea.support_count == 0
