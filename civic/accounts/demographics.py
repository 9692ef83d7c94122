"""The optional equalities questions we ask residents, with the categories of Census 2021.

The categories match the census baselines that ``flask areas import-census`` loads, so that
participation can be compared with the population of the same area. Every question is
optional and offers "Prefer not to say"; an unanswered question is stored as NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFER_NOT_TO_SAY = "prefer_not_to_say"


@dataclass(frozen=True)
class Dimension:
    key: str
    question: str
    hint: str
    choices: tuple[tuple[str, str], ...]  # (value, label), census categories only

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.choices)

    def label(self, value: str | None) -> str:
        if value is None:
            return "Not answered"
        if value == PREFER_NOT_TO_SAY:
            return "Prefer not to say"
        return dict(self.choices).get(value, value)

    def form_choices(self) -> list[tuple[str, str]]:
        return [*self.choices, (PREFER_NOT_TO_SAY, "Prefer not to say")]


AGE_BAND = Dimension(
    key="age_band",
    question="What is your age?",
    hint="You must be 16 or over to take part.",
    choices=(
        ("16-24", "16 to 24"),
        ("25-34", "25 to 34"),
        ("35-44", "35 to 44"),
        ("45-54", "45 to 54"),
        ("55-64", "55 to 64"),
        ("65-74", "65 to 74"),
        ("75+", "75 or over"),
    ),
)

SEX = Dimension(
    key="sex",
    question="What is your sex?",
    hint="As asked in the 2021 Census.",
    choices=(("female", "Female"), ("male", "Male")),
)

ETHNIC_GROUP = Dimension(
    key="ethnic_group",
    question="What is your ethnic group?",
    hint="The five high-level groups used by the Office for National Statistics.",
    choices=(
        ("asian", "Asian, Asian British or Asian Welsh"),
        ("black", "Black, Black British, Black Welsh, Caribbean or African"),
        ("mixed", "Mixed or Multiple ethnic groups"),
        ("white", "White"),
        ("other", "Other ethnic group"),
    ),
)

DISABILITY = Dimension(
    key="disability",
    question="Are your day-to-day activities limited because of a health problem or disability?",
    hint=(
        "One that has lasted, or is expected to last, at least 12 months. "
        "This is how the 2021 Census defines disability under the Equality Act."
    ),
    choices=(("disabled", "Yes"), ("not_disabled", "No")),
)

DIMENSIONS: dict[str, Dimension] = {d.key: d for d in (AGE_BAND, SEX, ETHNIC_GROUP, DISABILITY)}

WHY_WE_ASK = (
    "These questions are optional. We ask them so that we can check whether the people taking "
    "part reflect everyone who lives here, and reach out to groups we are not hearing from. "
    "Your answers are only ever reported as totals for groups of 10 people or more, never on "
    "their own, and never alongside your name or what you said."
)
