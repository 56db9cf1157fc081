"""The evaluation's fixed words and numbers: the three stages and the core questionnaire (OECD *Evaluation
Guidelines for Representative Deliberative Processes*, 2021), the answer scale, the kinds of survey, the
defaults and limits, the survey key's names.
"""

from __future__ import annotations

import hashlib
import logging
import random
from datetime import datetime, timezone

from lib.i18n import N_
from lib.privacy import SMALL_GROUP

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

STAGES = {
    "design": N_("Integrity of the process design"),
    "deliberation": N_("The deliberative experience"),
    "impact": N_("Pathways to impact"),
}

# Marked for translation (lib/i18n.py): pages show them with gettext; results and exports key on the
# numbers 0-5, never on these words, so answers given in every language count together.
ANSWERS = {
    1: N_("Strongly disagree"),
    2: N_("Disagree"),
    3: N_("Neither agree nor disagree"),
    4: N_("Agree"),
    5: N_("Strongly agree"),
    0: N_("Prefer not to say"),
}
SCALE = (1, 2, 3, 4, 5)

WAVE_KINDS = {
    "baseline": "Baseline (at the start)",
    "pulse": "After a session (short)",
    "end": "End of the process",
    "followup3": "Follow-up after 3 months",
    "followup12": "Follow-up after 12 months",
}

ALL_WAVES = list(WAVE_KINDS)
# (id, stage, wording, purpose, wave kinds)
CORE_QUESTIONS: list[tuple[str, str, str, str, list[str]]] = [
    (
        "D1",
        "design",
        N_("The purpose of this assembly and the question we were asked were explained clearly."),
        "Was the remit clear?",
        ["baseline", "end"],
    ),
    (
        "D2",
        "design",
        N_("The way members of this assembly were chosen was fair."),
        "Do members trust the selection?",
        ["baseline", "end"],
    ),
    (
        "D3",
        "design",
        N_("The members of this assembly are a good mix of people from our community."),
        "Do members see the panel as representative?",
        ["baseline", "end"],
    ),
    (
        "D4",
        "design",
        N_("The organisers are open about who runs and pays for this assembly."),
        "Is the process transparent?",
        ["baseline", "end"],
    ),
    (
        "D5",
        "design",
        N_("I know what will happen to our recommendations."),
        "Is the link to decision-makers clear?",
        ["baseline", "end"],
    ),
    (
        "E1",
        "deliberation",
        N_("I had enough chances to say what I think."),
        "Could everyone take part?",
        ["pulse", "end"],
    ),
    (
        "E2",
        "deliberation",
        N_("Other members listened to me with respect."),
        "Was the atmosphere respectful?",
        ["pulse", "end"],
    ),
    (
        "E3",
        "deliberation",
        N_("The information we were given was clear and balanced."),
        "Was the evidence good enough?",
        ["pulse", "end"],
    ),
    ("E4", "deliberation", N_("We heard from a wide range of views."), "Was the range of perspectives wide?", ["end"]),
    (
        "E5",
        "deliberation",
        N_("We had enough time to talk things through properly."),
        "Was there enough time?",
        ["pulse", "end"],
    ),
    (
        "E6",
        "deliberation",
        N_("The people running the sessions did not take sides."),
        "Was facilitation neutral?",
        ["pulse", "end"],
    ),
    (
        "E7",
        "deliberation",
        N_("Our recommendations show what the assembly really thinks."),
        "Do the outputs reflect the deliberation?",
        ["end"],
    ),
    (
        "I1",
        "impact",
        N_("The decision-makers have given a clear public answer to our recommendations."),
        "Was there a response?",
        ["end", "followup3", "followup12"],
    ),
    (
        "I2",
        "impact",
        N_("Our recommendations are being acted on."),
        "Is there influence on decisions?",
        ["followup3", "followup12"],
    ),
    (
        "I3",
        "impact",
        N_("Taking part has made me more interested in what happens in our community."),
        "Effect on members",
        ["end", "followup3", "followup12"],
    ),
    (
        "I4",
        "impact",
        N_("I would take part in an assembly like this again."),
        "Would members do it again?",
        ["end", "followup3", "followup12"],
    ),
    (
        "I5",
        "impact",
        N_("I would recommend an assembly like this to other people in our community."),
        "Would members recommend it?",
        ["end", "followup3", "followup12"],
    ),
]

DEFAULT_SHARE = 0.5
DEFAULT_LIMIT = 5
DEFAULT_MEMBERS_FIRST_DAYS = 7
MAX_TEXT = 500
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read off a card
_CODE_LENGTH = 10

# Answers and endorsements wait in memory and are written at least BATCH at a time.
BATCH = SMALL_GROUP
PAPER_CARDS_MAX = 10_000

KEY_ENV = "KLEROTERION_SURVEY_KEY"  # the key itself (hosting secrets), at least 32 characters
KEY_FILE_ENV = "KLEROTERION_SURVEY_KEY_FILE"  # where the key file is (default: beside the database)
KEY_SUFFIX = ".survey-key"

_RNG = random.SystemRandom()  # which waiting entries go into a batch: unpredictable
log = logging.getLogger("kleroterion")


def _now(now: datetime | None = None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
