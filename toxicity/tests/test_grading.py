"""ASTCT consensus grading (docs/clinical-rules.md#grading): pure functions, no database."""

from __future__ import annotations

import math
from typing import Any

import pytest

from toxicity.grading import (
    CONSCIOUSNESS_LEVELS,
    EDEMA_FINDINGS,
    OXYGEN_SUPPORT,
    SEIZURE_TYPES,
    Grade,
    InvalidInput,
    assess_crs,
    assess_icans,
    assess_icans_capd,
    grade_crs,
    grade_icans,
    grade_icans_capd,
    ice_score,
)

FEBRILE = 38.5

# --- CRS: fever -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature_c", "expected"),
    [(37.9, 0), (38.0, 1), (38, 1), (39.5, 1), (25.0, 0), (45.0, 1), (None, 0)],
)
def test_crs_fever_threshold_is_38_0_c(temperature_c: float | None, expected: int) -> None:
    assert grade_crs(temperature_c=temperature_c) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hypotension": True},
        {"vasopressors": 2},
        {"oxygen": "mechanical_ventilation"},
        {"vasopressin": True, "oxygen": "facemask"},
    ],
)
def test_crs_without_fever_or_masking_is_grade_0_whatever_else(kwargs: dict[str, Any]) -> None:
    result = assess_crs(temperature_c=37.9, **kwargs)
    assert result.grade == 0
    assert result.domains == ()
    assert "no fever" in result.reason


@pytest.mark.parametrize(
    ("temperature_c", "kwargs", "expected"),
    [
        (37.0, {"hypotension": True}, 2),
        (None, {"hypotension": True}, 2),
        (36.5, {"vasopressors": 1}, 3),
        (37.0, {"oxygen": "nasal_cannula", "oxygen_flow_l_min": 2}, 2),
        (37.0, {"oxygen": "bipap"}, 4),
        (38.4, {}, 1),  # still febrile despite therapy: fever alone is grade 1
        (37.0, {}, 0),  # afebrile after therapy, nothing else: grade 1 is defined by fever
        (None, {}, 0),
    ],
)
def test_crs_masked_fever_is_graded_by_hypotension_and_hypoxia(
    temperature_c: float | None, kwargs: dict[str, Any], expected: int
) -> None:
    assert grade_crs(temperature_c=temperature_c, fever_masked=True, **kwargs) == expected


def test_crs_masked_fever_reason_says_fever_not_required() -> None:
    result = assess_crs(temperature_c=37.0, fever_masked=True, hypotension=True)
    assert "fever not required" in result.reason


def test_crs_fever_alone_is_grade_1_decided_by_fever() -> None:
    result = assess_crs(temperature_c=38.0)
    assert result == Grade(1, "Grade 1: fever 38 °C without hypotension or hypoxia", ("fever",))


# --- CRS: hypotension -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hypotension", "vasopressors", "vasopressin", "expected"),
    [
        (False, 0, False, 1),
        (True, 0, False, 2),
        (True, 1, False, 3),
        (True, 1, True, 3),  # one vasopressor with vasopressin
        (True, 0, True, 3),  # vasopressin alone is one vasopressor
        (True, 2, False, 4),
        (True, 2, True, 4),
        (True, 3, False, 4),
        # vasopressors imply hypotension even if the flag was not set
        (False, 1, False, 3),
        (False, 0, True, 3),
        (False, 2, False, 4),
    ],
)
def test_crs_hypotension_grades(hypotension: bool, vasopressors: int, vasopressin: bool, expected: int) -> None:
    assert (
        grade_crs(temperature_c=FEBRILE, hypotension=hypotension, vasopressors=vasopressors, vasopressin=vasopressin)
        == expected
    )


# --- CRS: hypoxia ---------------------------------------------------------------------------------

OXYGEN_GRADES: list[tuple[str, float | None, int]] = [
    ("room_air", None, 1),
    ("room_air", 0.0, 1),
    ("blow_by", None, 2),
    ("blow_by", 10.0, 2),
    ("nasal_cannula", 0.5, 2),
    ("nasal_cannula", 4.0, 2),
    ("nasal_cannula", 6.0, 2),
    ("nasal_cannula", 6, 2),
    ("nasal_cannula", 6.1, 3),
    ("nasal_cannula", 40.0, 3),
    ("high_flow_nasal_cannula", None, 3),
    ("high_flow_nasal_cannula", 40.0, 3),
    ("facemask", None, 3),
    ("nonrebreather", None, 3),
    ("venturi", None, 3),
    ("cpap", None, 4),
    ("bipap", None, 4),
    ("mechanical_ventilation", None, 4),
]


@pytest.mark.parametrize(("oxygen", "flow", "expected"), OXYGEN_GRADES)
def test_crs_hypoxia_grades(oxygen: str, flow: float | None, expected: int) -> None:
    assert grade_crs(temperature_c=FEBRILE, oxygen=oxygen, oxygen_flow_l_min=flow) == expected


def test_every_oxygen_word_is_tested() -> None:
    assert {row[0] for row in OXYGEN_GRADES} == set(OXYGEN_SUPPORT)


def test_crs_grade_is_monotone_as_oxygen_support_escalates() -> None:
    ladder: list[tuple[str, float | None]] = [
        ("room_air", None),
        ("blow_by", None),
        ("nasal_cannula", 1.0),
        ("nasal_cannula", 6.0),
        ("nasal_cannula", 6.1),
        ("high_flow_nasal_cannula", 30.0),
        ("venturi", None),
        ("facemask", None),
        ("nonrebreather", None),
        ("cpap", None),
        ("bipap", None),
        ("mechanical_ventilation", None),
    ]
    circulations: list[dict[str, Any]] = [
        {},
        {"hypotension": True},
        {"vasopressors": 1},
        {"vasopressin": True},
        {"vasopressors": 2, "vasopressin": True},
    ]
    fevers: list[dict[str, Any]] = [{"temperature_c": FEBRILE}, {"temperature_c": 37.0, "fever_masked": True}]
    for fever in fevers:
        for circulation in circulations:
            grades = [
                grade_crs(**fever, **circulation, oxygen=oxygen, oxygen_flow_l_min=flow) for oxygen, flow in ladder
            ]
            assert grades == sorted(grades), (fever, circulation, grades)
            assert grades[-1] == 4


def test_crs_grade_is_monotone_as_vasopressors_escalate() -> None:
    for oxygen, flow in (("room_air", None), ("nasal_cannula", 3.0), ("facemask", None)):
        grades = [
            grade_crs(temperature_c=FEBRILE, hypotension=True, vasopressors=n, oxygen=oxygen, oxygen_flow_l_min=flow)
            for n in range(4)
        ]
        assert grades == sorted(grades)


# --- CRS: the more severe of the two ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected", "domains"),
    [
        ({"hypotension": True, "oxygen": "facemask"}, 3, ("hypoxia",)),
        ({"vasopressors": 2, "oxygen": "blow_by"}, 4, ("hypotension",)),
        ({"vasopressors": 1, "oxygen": "venturi"}, 3, ("hypotension", "hypoxia")),
        ({"hypotension": True, "oxygen": "nasal_cannula", "oxygen_flow_l_min": 2}, 2, ("hypotension", "hypoxia")),
        ({"vasopressin": True, "oxygen": "cpap"}, 4, ("hypoxia",)),
    ],
)
def test_crs_grade_is_the_more_severe_of_hypotension_and_hypoxia(
    kwargs: dict[str, Any], expected: int, domains: tuple[str, ...]
) -> None:
    result = assess_crs(temperature_c=FEBRILE, **kwargs)
    assert result.grade == expected
    assert result.domains == domains


def test_paper_example_febrile_one_vasopressor_low_flow_cannula_is_grade_3() -> None:
    result = assess_crs(temperature_c=38.6, vasopressors=1, oxygen="nasal_cannula", oxygen_flow_l_min=4)
    assert result == Grade(
        3,
        "Grade 3: one vasopressor (hypotension); low-flow nasal cannula 4 L/min would alone be grade 2",
        ("hypotension",),
    )
    assert grade_crs(temperature_c=38.6, vasopressors=1, oxygen="nasal_cannula", oxygen_flow_l_min=4) == 3


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"hypotension": True}, ["hypotension not requiring vasopressors", "(hypotension)"]),
        ({"vasopressin": True}, ["vasopressin", "(hypotension)"]),
        ({"vasopressors": 2, "vasopressin": True}, ["2 vasopressors plus vasopressin"]),
        ({"oxygen": "nasal_cannula", "oxygen_flow_l_min": 6.1}, ["high-flow nasal cannula 6.1 L/min", "(hypoxia)"]),
        ({"oxygen": "mechanical_ventilation"}, ["mechanical ventilation", "(hypoxia)"]),
    ],
)
def test_crs_reason_names_the_deciding_finding(kwargs: dict[str, Any], words: list[str]) -> None:
    reason = assess_crs(temperature_c=FEBRILE, **kwargs).reason
    assert reason.startswith(f"Grade {grade_crs(temperature_c=FEBRILE, **kwargs)}: ")
    for word in words:
        assert word in reason


# --- ICE score --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "naming", "commands", "writes", "counts", "expected"),
    [
        (4, 3, True, True, True, 10),
        (0, 0, False, False, False, 0),
        (4, 3, False, False, False, 7),
        (2, 1, True, False, True, 5),
        (0, 0, True, True, True, 3),
    ],
)
def test_ice_score_adds_up_ten_points(
    orientation: int, naming: int, commands: bool, writes: bool, counts: bool, expected: int
) -> None:
    score = ice_score(
        orientation=orientation,
        naming=naming,
        follows_commands=commands,
        writes_sentence=writes,
        counts_backwards=counts,
    )
    assert score == expected
    assert type(score) is int


ICE_OK: dict[str, Any] = {
    "orientation": 4,
    "naming": 3,
    "follows_commands": True,
    "writes_sentence": True,
    "counts_backwards": True,
}


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("orientation", 5),
        ("orientation", -1),
        ("orientation", True),
        ("orientation", 2.0),
        ("naming", 4),
        ("naming", -1),
        ("naming", False),
        ("follows_commands", 1),
        ("writes_sentence", "yes"),
        ("counts_backwards", None),
    ],
)
def test_ice_score_rejects_out_of_domain_items(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=argument):
        ice_score(**{**ICE_OK, argument: value})


# --- ICANS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(10, 0), (9, 1), (8, 1), (7, 1), (6, 2), (5, 2), (3, 2), (2, 3), (1, 3), (0, 3)],
)
def test_icans_ice_score_bands(score: int, expected: int) -> None:
    assert grade_icans(ice_score=score) == expected


def test_icans_ice_0_while_awake_global_aphasia_is_grade_3() -> None:
    assert grade_icans(ice_score=0, consciousness="alert") == 3


@pytest.mark.parametrize(
    ("consciousness", "expected"),
    [
        ("alert", 0),  # nothing to go on is no ICANS, not "unknown"
        ("awakens_spontaneously", 1),
        ("awakens_to_voice", 2),
        ("awakens_to_tactile", 3),
        ("unarousable", 4),
    ],
)
def test_icans_ice_not_assessed_is_graded_by_consciousness(consciousness: str, expected: int) -> None:
    assert grade_icans(ice_score=None, consciousness=consciousness) == expected


@pytest.mark.parametrize(("consciousness", "expected"), [(k, v[0]) for k, v in CONSCIOUSNESS_LEVELS.items()])
def test_icans_consciousness_levels_with_normal_ice(consciousness: str, expected: int) -> None:
    assert grade_icans(ice_score=10, consciousness=consciousness) == expected


def test_icans_unarousable_and_unable_to_do_ice_is_grade_4_by_ice_and_consciousness() -> None:
    for score in (None, 0):
        result = assess_icans(ice_score=score, consciousness="unarousable")
        assert result.grade == 4
        assert result.domains == ("ice", "consciousness")


@pytest.mark.parametrize(
    ("seizure", "expected"),
    [
        ("none", 0),
        ("rapidly_resolving", 3),
        ("nonconvulsive_resolved_with_intervention", 3),
        ("prolonged", 4),
        ("repetitive_without_baseline", 4),
    ],
)
def test_icans_seizure(seizure: str, expected: int) -> None:
    assert grade_icans(ice_score=10, seizure=seizure) == expected
    assert grade_icans(ice_score=None, seizure=seizure) == expected


def test_every_seizure_word_is_tested() -> None:
    assert set(SEIZURE_TYPES) == {
        "none",
        "rapidly_resolving",
        "nonconvulsive_resolved_with_intervention",
        "prolonged",
        "repetitive_without_baseline",
    }


@pytest.mark.parametrize(("motor", "expected"), [("none", 0), ("deep_focal_weakness", 4)])
def test_icans_motor(motor: str, expected: int) -> None:
    assert grade_icans(ice_score=10, motor=motor) == expected


@pytest.mark.parametrize(
    ("cerebral_edema", "expected"),
    [
        ("none", 0),
        ("focal_edema", 3),
        ("diffuse_edema", 4),
        ("posturing", 4),
        ("cranial_nerve_vi_palsy", 4),
        ("papilledema", 4),
        ("cushings_triad", 4),
    ],
)
def test_icans_cerebral_edema(cerebral_edema: str, expected: int) -> None:
    assert grade_icans(ice_score=10, cerebral_edema=cerebral_edema) == expected


def test_every_edema_word_is_tested() -> None:
    assert len(EDEMA_FINDINGS) == 7


@pytest.mark.parametrize(
    ("kwargs", "expected", "domains"),
    [
        ({"ice_score": 8, "consciousness": "awakens_to_voice"}, 2, ("consciousness",)),
        ({"ice_score": 2, "consciousness": "awakens_spontaneously"}, 3, ("ice",)),
        ({"ice_score": 5, "consciousness": "awakens_to_voice"}, 2, ("ice", "consciousness")),
        ({"ice_score": 9, "seizure": "rapidly_resolving"}, 3, ("seizure",)),
        ({"ice_score": 1, "cerebral_edema": "focal_edema"}, 3, ("ice", "cerebral_edema")),
        ({"ice_score": 6, "motor": "deep_focal_weakness", "seizure": "rapidly_resolving"}, 4, ("motor",)),
        ({"ice_score": 7, "cerebral_edema": "papilledema"}, 4, ("cerebral_edema",)),
        ({"ice_score": 8, "consciousness": "unarousable"}, 4, ("consciousness",)),
        ({"ice_score": None, "consciousness": "awakens_to_tactile", "seizure": "prolonged"}, 4, ("seizure",)),
    ],
)
def test_icans_grade_is_the_most_severe_domain(kwargs: dict[str, Any], expected: int, domains: tuple[str, ...]) -> None:
    result = assess_icans(**kwargs)
    assert result.grade == expected
    assert result.domains == domains
    assert grade_icans(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"ice_score": 8}, ["Grade 1: ", "ICE score 8/10 (ICE)"]),
        ({"ice_score": 10, "consciousness": "awakens_to_voice"}, ["Grade 2: ", "awakens to voice (consciousness)"]),
        ({"ice_score": 4, "seizure": "prolonged"}, ["Grade 4: ", "(seizure)", "ICE score 4/10 would alone be grade 2"]),
        ({"ice_score": 10, "motor": "deep_focal_weakness"}, ["Grade 4: ", "deep focal motor weakness (motor)"]),
        ({"ice_score": 10, "cerebral_edema": "focal_edema"}, ["Grade 3: ", "(cerebral edema)"]),
        ({"ice_score": 10}, ["Grade 0: ", "no ICANS"]),
        ({"ice_score": None}, ["Grade 0: ", "ICE not assessed"]),
    ],
)
def test_icans_reason_names_the_deciding_domain(kwargs: dict[str, Any], words: list[str]) -> None:
    reason = assess_icans(**kwargs).reason
    for word in words:
        assert word in reason


def test_no_icans_has_no_domains() -> None:
    assert assess_icans(ice_score=10) == Grade(
        0, "Grade 0: no ICANS (ICE score 10/10, alert, no seizure, motor findings or cerebral edema)", ()
    )


# --- Validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("temperature_c", {"temperature_c": 24.9}),
        ("temperature_c", {"temperature_c": 45.1}),
        ("temperature_c", {"temperature_c": 385}),  # tenths of a degree typed as degrees
        ("temperature_c", {"temperature_c": math.nan}),
        ("temperature_c", {"temperature_c": math.inf}),
        ("temperature_c", {"temperature_c": True}),
        ("temperature_c", {"temperature_c": "38.5"}),
        ("temperature_c", {"temperature_c": 20.0, "fever_masked": True}),
        ("fever_masked", {"fever_masked": 1}),
        ("hypotension", {"hypotension": "yes"}),
        ("vasopressin", {"vasopressin": 1}),
        ("vasopressors", {"vasopressors": -1}),
        ("vasopressors", {"vasopressors": True}),
        ("vasopressors", {"vasopressors": 1.0}),
        ("oxygen", {"oxygen": "Nasal cannula"}),
        ("oxygen", {"oxygen": "ecmo"}),
        ("oxygen", {"oxygen": None}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula"}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula", "oxygen_flow_l_min": 0}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula", "oxygen_flow_l_min": -2.0}),
        ("oxygen_flow_l_min", {"oxygen": "facemask", "oxygen_flow_l_min": -1}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula", "oxygen_flow_l_min": math.nan}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula", "oxygen_flow_l_min": math.inf}),
        ("oxygen_flow_l_min", {"oxygen": "nasal_cannula", "oxygen_flow_l_min": True}),
        ("oxygen_flow_l_min", {"oxygen": "room_air", "oxygen_flow_l_min": 2.0}),
    ],
)
def test_crs_rejects_out_of_domain_input_naming_the_argument(argument: str, kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"temperature_c": FEBRILE, **kwargs}
    with pytest.raises(ValueError, match=argument):
        grade_crs(**arguments)
    with pytest.raises(ValueError, match=argument):
        assess_crs(**arguments)


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("ice_score", {"ice_score": 11}),
        ("ice_score", {"ice_score": -1}),
        ("ice_score", {"ice_score": True}),
        ("ice_score", {"ice_score": 7.5}),
        ("ice_score", {"ice_score": math.nan}),
        ("consciousness", {"consciousness": "drowsy"}),
        ("consciousness", {"consciousness": "sedated"}),
        ("seizure", {"seizure": "focal"}),
        ("motor", {"motor": "tremor"}),
        ("motor", {"motor": "myoclonus"}),
        ("cerebral_edema", {"cerebral_edema": "intracranial_hemorrhage"}),
        ("cerebral_edema", {"cerebral_edema": None}),
    ],
)
def test_icans_rejects_out_of_domain_input_naming_the_argument(argument: str, kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"ice_score": 10, **kwargs}
    with pytest.raises(ValueError, match=argument):
        grade_icans(**arguments)
    with pytest.raises(ValueError, match=argument):
        assess_icans(**arguments)


def test_grade_is_frozen_and_bounded() -> None:
    result = assess_crs(temperature_c=FEBRILE)
    with pytest.raises(AttributeError):
        result.grade = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="grade"):
        Grade(5, "Grade 5", ())


@pytest.mark.parametrize("function", [grade_crs, grade_icans, ice_score])
def test_arguments_are_keyword_only(function: Any) -> None:
    with pytest.raises(TypeError):
        function(38.5)


# --- ICANS at 12 years and under: the CAPD (ASTCT pediatric table) --------------------------------


@pytest.mark.parametrize(
    ("capd_score", "expected"),
    [(0, 0), (1, 1), (8, 1), (9, 3), (20, 3), (32, 3), (None, 4)],
)
def test_capd_bands(capd_score: int | None, expected: int) -> None:
    assert grade_icans_capd(capd_score=capd_score) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected", "domains"),
    [
        # Grade 2 comes from awakening only to voice, not from the CAPD.
        ({"capd_score": 5, "consciousness": "awakens_to_voice"}, 2, ("consciousness",)),
        ({"capd_score": 5, "consciousness": "awakens_spontaneously"}, 1, ("capd", "consciousness")),
        ({"capd_score": 0, "consciousness": "awakens_to_tactile"}, 3, ("consciousness",)),
        ({"capd_score": 12, "seizure": "prolonged"}, 4, ("seizure",)),
        ({"capd_score": 3, "motor": "deep_focal_weakness"}, 4, ("motor",)),
        ({"capd_score": 9, "cerebral_edema": "focal_edema"}, 3, ("capd", "cerebral_edema")),
        ({"capd_score": None, "consciousness": "unarousable"}, 4, ("capd", "consciousness")),
    ],
)
def test_capd_grade_is_the_most_severe_domain(kwargs: dict[str, Any], expected: int, domains: tuple[str, ...]) -> None:
    result = assess_icans_capd(**kwargs)
    assert (result.grade, result.domains) == (expected, domains)
    assert grade_icans_capd(**kwargs) == expected


def test_capd_reasons_name_the_score_and_what_no_icans_means() -> None:
    assert assess_icans_capd(capd_score=9).reason == "Grade 3: CAPD score 9/32 (CAPD)"
    assert assess_icans_capd(capd_score=None).reason == "Grade 4: unable to perform the CAPD (CAPD)"
    assert assess_icans_capd(capd_score=0).reason.startswith("Grade 0: no ICANS (CAPD score 0/32")


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("capd_score", {"capd_score": -1}),
        ("capd_score", {"capd_score": 33}),
        ("capd_score", {"capd_score": 8.5}),
        ("capd_score", {"capd_score": True}),
        ("capd_score", {"capd_score": "8"}),
        ("consciousness", {"consciousness": "drowsy"}),
        ("seizure", {"seizure": "focal"}),
        ("motor", {"motor": "tremor"}),
        ("cerebral_edema", {"cerebral_edema": "intracranial_hemorrhage"}),
    ],
)
def test_capd_rejects_out_of_domain_input_naming_the_argument(argument: str, kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"capd_score": 0, **kwargs}
    with pytest.raises(ValueError, match=f"^{argument}:") as raised:
        grade_icans_capd(**arguments)
    assert isinstance(raised.value, InvalidInput) and raised.value.plain


def test_capd_arguments_are_keyword_only() -> None:
    positional: Any = grade_icans_capd
    with pytest.raises(TypeError):
        positional(8)


@pytest.mark.parametrize(
    ("call", "argument", "plain"),
    [
        (lambda: grade_crs(temperature_c=39.0, oxygen="nasal_cannula"), "oxygen_flow_l_min", "Enter the flow"),
        (lambda: grade_crs(temperature_c=50.0), "temperature_c", "between 25 and 45"),
        (lambda: grade_icans(ice_score=11), "ice_score", "from 0 to 10"),
        (
            lambda: grade_crs(temperature_c=39.0, oxygen="room_air", oxygen_flow_l_min=2),
            "oxygen_flow_l_min",
            "Room air",
        ),
    ],
)
def test_every_refusal_has_a_sentence_for_the_person_at_the_form(call: Any, argument: str, plain: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        call()
    assert raised.value.argument == argument
    assert str(raised.value).startswith(f"{argument}: ")
    assert plain in raised.value.plain
