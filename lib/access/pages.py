"""The app's pages and which roles may open each one: written once, here.

app.py builds its menu from ``PAGES``; every page asks ``pages.common.require`` (which reads ``roles_for``)
before showing anything, so a page's roles are never written a second time in the page itself.
"""

from __future__ import annotations

from lib.access.auth import MEMBER, ORGANISER, PUBLIC, VOLUNTEER

EVERYONE = frozenset({ORGANISER, VOLUNTEER, MEMBER, PUBLIC})
STAFF = frozenset({ORGANISER, VOLUNTEER})
ORGANISERS, MEMBERS, VISITORS = frozenset({ORGANISER}), frozenset({MEMBER}), frozenset({PUBLIC})

# (section, file, title, icon, url path, roles that may see it)
# One page a line, so the table reads as a table (the formatter would spread the longer rows out).
# fmt: off
PAGES: list[tuple[str, str, str, str, str, frozenset[str]]] = [
    ("", "pages/home.py", "Overview", ":material/home:", "", EVERYONE),
    ("", "pages/setup.py", "Set up the assembly", ":material/construction:", "setup", ORGANISERS),
    ("Recruitment", "pages/signups.py", "Sign-ups", ":material/group_add:", "signups", ORGANISERS),
    ("Recruitment", "pages/targets.py", "Targets and quotas", ":material/tune:", "targets", ORGANISERS),
    ("Recruitment", "pages/quota_board.py", "Quota board", ":material/checklist:", "quota-board", STAFF),
    ("The draw", "pages/draw.py", "The draw", ":material/casino:", "draw", ORGANISERS),
    ("The draw", "pages/representativeness.py", "How representative?", ":material/bar_chart:", "representativeness", ORGANISERS),
    ("The assembly", "pages/members.py", "Members", ":material/badge:", "members", ORGANISERS),
    ("The assembly", "pages/sessions.py", "Sessions", ":material/event:", "sessions", ORGANISERS),
    ("The assembly", "pages/checkin.py", "Check-in", ":material/how_to_reg:", "check-in", STAFF),
    ("The assembly", "pages/support.py", "Support and stipends", ":material/volunteer_activism:", "support", ORGANISERS),
    ("Evaluation", "pages/evaluation_admin.py", "Evaluation", ":material/fact_check:", "evaluation", ORGANISERS),
    ("Evaluation", "pages/paper_answers.py", "Type in paper answers", ":material/edit_note:", "paper-answers", STAFF),
    ("Evaluation", "pages/question_wording.py", "Help with wording", ":material/edit:", "question-wording", STAFF),
    ("For members", "pages/member_questions.py", "Our questions", ":material/forum:", "our-questions", MEMBERS),
    ("For members", "pages/member_survey.py", "Survey", ":material/assignment:", "survey", MEMBERS),
    ("For members", "pages/results.py", "Results", ":material/insights:", "results", frozenset({ORGANISER, MEMBER, PUBLIC})),
    ("Open to all", "pages/transparency.py", "Transparency", ":material/visibility:", "transparency", EVERYONE),
    ("Open to all", "pages/projector.py", "The draw, live (projector)", ":material/cast:", "projector", EVERYONE),
    ("Account", "pages/signin.py", "Sign in", ":material/login:", "sign-in", VISITORS),
    ("Account", "pages/team.py", "Team accounts", ":material/manage_accounts:", "team", ORGANISERS),
    ("Account", "pages/backup.py", "Backup and restore", ":material/backup:", "backup", ORGANISERS),
]
# fmt: on


def roles_for(page: str) -> frozenset[str]:
    """The roles that may open a page, by its file ("pages/setup.py", or just "setup").

    An unknown page raises KeyError: a page missing from the list is a mistake to fix, not a page for nobody."""
    name = page.rsplit("/", 1)[-1].removesuffix(".py")
    for _section, path, _title, _icon, _url, roles in PAGES:
        if path == f"pages/{name}.py":
            return roles
    raise KeyError(page)


def may_open(role: str | None, page: str) -> bool:
    """Whether someone in this role may open the page (no role counts as a visitor)."""
    return (role or PUBLIC) in roles_for(page)
