"""Infeasibility messages name the questions and answers as the organisers set them up (issue 15),
not the internal keys ("age = 16-24")."""

from __future__ import annotations

from lib.sortition.feasibility import Labels, check_feasibility
from lib.sortition.audit.model import Instance, Person, Quota

LABELS = Labels(fields={"age": "Age band", "geo": "Where they live"},
                values={("age", "16-24"): "16 to 24", ("age", "65+"): "65 and over",
                        ("geo", "n"): "North of the river", ("geo", "s"): "South of the river"})


def _people(spec):
    return [Person(f"p{i}", {"age": a, "geo": g}) for i, (a, g) in enumerate(spec)]


def test_a_missing_group_is_named_by_its_labels():
    people = _people([("65+", "n")] * 6 + [("16-24", "s")])
    inst = Instance(people, [Quota("age", "16-24", 2, 3), Quota("age", "65+", 0, 4)], 4)
    text = check_feasibility(inst, labels=LABELS).message()
    assert "Age band “16 to 24”" in text, text
    assert "age = 16-24" not in text and "16-24" not in text, text
    # without labels (the command line, the engine's own tests) the keys are still used
    assert "age = 16-24" in check_feasibility(inst).message()


def test_conflicting_quotas_and_the_suggested_change_use_labels():
    people = _people([("16-24", "n")] * 3 + [("65+", "s")] * 3)
    inst = Instance(people, [Quota("age", "16-24", 2, 2), Quota("geo", "s", 2, 2), Quota("age", "65+", 0, 2),
                             Quota("geo", "n", 0, 2)], 2)
    report = check_feasibility(inst, labels=LABELS)
    assert not report.feasible and report.relaxation
    text = report.message() + " " + " ".join(c.describe(LABELS) for c in report.relaxation)
    assert "Where they live “South of the river”" in text or "Age band “16 to 24”" in text, text
    for key in ("age =", "geo =", "= s", "= 16-24"):
        assert key not in text, text


def test_a_field_total_message_uses_the_field_label():
    people = _people([("65+", "n")] * 3 + [("16-24", "s")] * 3)
    inst = Instance(people, [Quota("age", "16-24", 3, 3), Quota("age", "65+", 3, 3)], 4)
    text = check_feasibility(inst, labels=LABELS).message()
    assert "The minimums for Age band add up to 6" in text, text
