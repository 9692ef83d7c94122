"""Result figures: a bar per option with the numbers; free text has none."""

from civic.consultations import services
from civic.consultations.figures import question_figure
from tests.consultations.conftest import valid_form


def test_figures(resident, consultation):
    for page in range(1, 5):
        services.save_answers(resident, consultation, page, valid_form(consultation))
    services.submit_response(resident, consultation)
    single, multi, scale, text = (question_figure(r) for r in services.tally(consultation).questions)
    bar = single.figure.data[0]
    assert list(bar.y) == ["Option 3", "Option 2", "Option 1"] and list(bar.x) == [0, 0, 1]
    assert "Option 1" in single.summary and "100%" in single.summary
    assert len(scale.figure.data[0].y) == 6
    assert text.figure is None and "own words" in text.summary
    assert single.figure_id == f"question-{consultation.questions[0].id}"


def test_empty_summary(consultation):
    result = services.tally(consultation).questions[0]
    assert question_figure(result).summary == "Nobody has answered this question yet."
