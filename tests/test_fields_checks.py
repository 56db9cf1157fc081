"""Each way a set of questions (or a questions file) can be wrong gets its own plain message, saying where.

These pin the messages of lib.recruitment.categories' checks one by one (the branches the setup tests do
not reach), so that splitting the checks into one function per rule keeps every word."""

from __future__ import annotations

import pytest

from lib.errors import UserError
from lib.recruitment.categories import (
    MAX_ALIASES,
    MAX_FIELDS,
    MAX_FILE_BYTES,
    MAX_TEXT,
    MAX_VALUES,
    Field,
    FieldsError,
    fields_problems,
    parse_fields_csv,
)


def gender(**changes) -> Field:
    f = Field("gender", "Gender", "Your gender?", ["Woman", "Man"], {"Woman": "Woman", "Man": "Man"},
              {"Woman": ["F"], "Man": ["M"]})
    for k, v in changes.items():
        setattr(f, k, v)
    return f


def age() -> Field:
    return Field("age", "Age", "", ["Young", "Old"])


def test_no_questions_at_all_is_one_plain_sentence():
    assert fields_problems([]) == ["There are no questions yet: add at least one."]


def test_too_many_questions_says_how_many_can_be_balanced():
    many = [Field(f"q{i}", f"Question {i}", "", ["a", "b"]) for i in range(MAX_FIELDS + 1)]
    assert fields_problems(many) == [f"There are {MAX_FIELDS + 1} questions; at most {MAX_FIELDS} can be balanced "
                                     "(most assemblies use 7 or fewer)."]


@pytest.mark.parametrize("fields, expected", [
    ([gender(key="")], "Question “Gender”: the question's short name cannot be used: it is empty."),
    ([gender(key="g" * 61)], "the question's short name cannot be used: it is 61 characters long (at most 60)."),
    ([gender(key="gen\nder")], "the question's short name cannot be used: it holds an invisible control character"),
    ([gender(), Field("Gender", "Sex", "", ["a", "b"])],
     "Question “Sex”: the short name “Gender” is used by two questions (capital letters do not count as a "
     "difference)."),
    ([gender(label=" ")], "Question “ ”: the question's name is empty."),
    ([gender(label="x" * (MAX_TEXT + 1))],
     f"the question's name cannot be used: it is {MAX_TEXT + 1} characters long (at most {MAX_TEXT})."),
    ([gender(), Field("sex", "gender ", "", ["a", "b"])],
     "Question “gender ”: two questions are called “gender ”. Give each its own name."),
    ([gender(question="Your\u2028gender")],
     "Question “Gender”: the question's wording cannot be used: it holds an invisible control character"),
    ([gender(values=[])], "Question “Gender”: the question has no answers. Give it at least two."),
    ([gender(values=[str(i) for i in range(MAX_VALUES + 1)])],
     f"Question “Gender”: {MAX_VALUES + 1} answers is too many (at most {MAX_VALUES})."),
    ([gender(aliases={"Woman": [f"w{i}" for i in range(MAX_ALIASES + 1)]})],
     f"Question “Gender”, answer “Woman”: {MAX_ALIASES + 1} other spellings is too many (at most {MAX_ALIASES})."),
    ([gender(value_labels={"Woman": " ", "Man": "Man"})],
     "Question “Gender”, answer “Woman”: the answer's label is empty. Write the answer as people should see it."),
    ([gender(aliases={"Woman": ["F|f"]})],
     "Question “Gender”, answer “Woman”: the other spelling “F|f” holds a “|”, which separates other spellings in "
     "a questions file. Write them without it."),
    ([gender(value_labels={"Woman": "Wo\x07man", "Man": "Man"})],
     "Question “Gender”, answer “Woman”: “Wo\x07man” cannot be used: it holds an invisible control character"),
    ([gender(blank_value="Other")],
     "Question “Gender”: a blank answer should count as “Other”, which is not one of its answers."),
    ([gender(value_labels={"Woman": "Woman", "Man": "woman!"})],
     "Question “Gender”, answer “Man”: “woman!” is already an answer “Woman” (Question “Gender”, answer "
     "“Woman”). An answer can count only once"),
])
def test_each_way_a_question_can_be_wrong_has_its_own_message(fields, expected):
    problems = fields_problems(fields + [age()])
    assert any(expected in p for p in problems), problems


def test_a_spelling_without_letters_may_stand_for_the_blank_answer_only():
    ok = gender(values=["Woman", "Man", "?"], blank_value="?")
    assert fields_problems([ok]) == []
    wrong = gender(values=["Woman", "Man", "?"])
    assert set(fields_problems([wrong])) == {"Question “Gender”, answer “?”: “?” has no letters or digits, so it "
                                             "could not be told apart from a blank answer. Use words (or mark this "
                                             "answer as the one a blank counts as)."}


def test_only_the_first_eight_problems_are_listed_with_a_count_of_the_rest():
    e = FieldsError("These questions cannot be saved:", [f"problem {i}" for i in range(11)])
    assert str(e).endswith("- problem 7\n- and 3 more.")


HEADER = "field,field_label,question,value,value_label,aliases,blank\n"


@pytest.mark.parametrize("text, expected", [
    ("x" * (MAX_FILE_BYTES + 1), "ours.csv is too big for a list of questions (1,000,001 characters)."),
    ('field,value\n"' + "a" * 200_000 + '"\n', "ours.csv could not be read as a CSV file (field larger than"),
    ("", "ours.csv is empty: it needs a header row with at least: field, value"),
    ("field,answer\ngender,Woman\n", "ours.csv has no column 'value' (columns found: field, answer)"),
    (HEADER, "ours.csv lists no questions."),
    (HEADER + "".join(f"q{i},Q{i},,a,a,,\n" for i in range(MAX_FIELDS + 2)),
     f"ours.csv: too many rows for a list of questions (stopped at row {MAX_FIELDS + 3})."),
])
def test_each_way_a_questions_file_can_be_wrong_has_its_own_message(text, expected):
    with pytest.raises(UserError) as e:
        parse_fields_csv(text, "ours.csv")
    assert expected in str(e.value), str(e.value)
