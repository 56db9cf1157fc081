"""The first name volunteers see at the door (lib.assembly.first_names.first_name): a first name or
nothing, never a surname, an email address or a phone number."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import assembly as P


@pytest.mark.parametrize("full, first", [
    ("Mary O'Brien", "Mary"),
    ("O'Brien, Mary", "Mary"),                      # "Surname, First" as many registers write it
    ("O'Brien,Mary", "Mary"),
    ("  O'Brien ,   Mary   Anne ", "Mary"),
    ("Smith, Dr John", "John"),
    ("Mrs Mary Smith", "Mary"),
    ("Mrs. Mary Smith", "Mary"),
    ("DR. med. Anna Berg", "Anna"),
    ("Prof Dr Hans Müller", "Hans"),
    ("Mary Smith, Jr.", "Mary"),                    # a suffix after the comma is not a first name
    ("Łukasz Nowak", "Łukasz"),
    ("Nowak, Łukasz", "Łukasz"),
    ("Zoë", "Zoë"),                                 # a single name
    ("Jean-Luc Picard", "Jean-Luc"),
    ("Rosa Thị Minh", "Rosa"),
    ("José\u00a0García", "José"),                   # a non-breaking space between the names
    ("Zoe\u0308 Smith", "Zoë"),                     # decomposed accents come out composed
    ("Ngozi\tOkafor\n", "Ngozi"),
    ("مهر\u200cناز رضایی", "مهر\u200cناز"),             # a zero-width non-joiner inside a Persian name stays
    ("Anna\u2028Berg", "Anna"),                     # a line separator splits words like a space
    ("“Mary” Smith", "Mary"),
    ("mary.smith@example.org", ""),                 # an email: nothing of it is shown
    ("Mary Smith <mary.smith@example.org>", "Mary"),
    ("mary.smith@example.org Mary", "Mary"),
    ("07700 900123", ""),                           # a phone number typed in the name column
    ("+44 7700 900123 Mary", "Mary"),
    ("Mary2", ""),
    ("Mrs", ""),                                    # a title alone is no name
    ("", ""),
    (None, ""),
    ("   ", ""),
    (",", ""),
    ("Smith,", "Smith"),                            # nothing after the comma: the only name given
])
def test_first_name(full, first):
    assert P.first_name(full) == first


def test_the_door_shows_a_plain_placeholder_when_no_first_name_can_be_shown():
    assert P.first_name_or_placeholder("mary.smith@example.org") == "(no name given)"
    assert P.first_name_or_placeholder("O'Brien, Mary") == "Mary"


PHONE = re.compile(r"\d")


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=60),
    st.emails().map(str),
    st.tuples(st.sampled_from(["Mrs", "Dr.", "", "Ms"]), st.text(min_size=1, max_size=15), st.emails())
      .map(lambda t: f"{t[0]} {t[1]} <{t[2]}>"),
    st.from_regex(r"\+?[0-9 ()-]{6,18}", fullmatch=True).map(lambda p: f"{p} Mary"),
    st.tuples(st.text(max_size=15), st.text(max_size=15)).map(lambda t: f"{t[0]}, {t[1]}"),
))
def test_a_first_name_never_shows_an_email_or_a_digit(full):
    out = P.first_name(full)
    assert "@" not in out and not PHONE.search(out)
    assert not any(c.isspace() for c in out) and "," not in out
    assert out == "" or out in unicodedata.normalize("NFC", full)     # a word of the name, nothing made up
