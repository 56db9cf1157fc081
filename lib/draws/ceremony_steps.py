"""Where the draw ceremony stands, from what is stored: a pure function the Draw page and the
projector use, and that unit tests reach (issue 14: "the draw ceremony's step state computed by
a pure function in lib"; issue 15: after the reveal the page still said "Step 5 of 6").

The six steps: 1 check the quotas (and freeze the targets), 2 compute the fair lottery,
3 publish the commitment, 4 enter the public number, 5 reveal the panel, 6 download and share.
A draw's stored status fixes the step:

- no draw yet: step 1 (step 2 once the targets are frozen);
- ``computed``: step 3 (the lottery is ready, its commitment not published);
- ``committed``: step 4 (the commitment is public; the number is awaited);
- ``revealed``: the panel is revealed, so steps 1 to 5 are done and the last step, 6, is what
  is left: ``done`` is true and the progress is full;
- ``withdrawn``: the commitment was withdrawn in public; the ceremony starts again at step 1.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

STEPS = (
    "Check the quotas",
    "Compute the fair lottery",
    "Publish the commitment",
    "Enter the public number",
    "Reveal the panel",
    "Download and share",
)


@dataclass(frozen=True)
class CeremonyStep:
    number: int  # 1 … 6: the step to do now (6 once the panel is revealed)
    done: bool  # the panel is revealed: nothing is left but downloading and sharing

    @property
    def name(self) -> str:
        return STEPS[self.number - 1]

    @property
    def title(self) -> str:
        if self.done:
            return f"Step {self.number} of {len(STEPS)}: {self.name} (the panel is revealed)"
        return f"Step {self.number} of {len(STEPS)}: {self.name}"

    @property
    def progress(self) -> float:
        """Share of the steps finished: 0 at the start, 1 once the panel is revealed."""
        return 1.0 if self.done else (self.number - 1) / len(STEPS)

    def marks(self) -> list[tuple[int, str, str]]:
        """(number, name, state) for every step; state is "done", "now" or "later"."""
        out = []
        for i, name in enumerate(STEPS, start=1):
            if i < self.number or (self.done and i <= 5):
                state = "done"
            elif i == self.number:
                state = "now"
            else:
                state = "later"
            out.append((i, name, state))
        return out

    def trail(self) -> str:
        """Every step in one Markdown line: done ones struck through and ticked, this one in bold."""
        words = {"done": "~~{i}. {name}~~ ✓", "now": "**{i}. {name}**", "later": "{i}. {name}"}
        return " → ".join(words[state].format(i=i, name=name) for i, name, state in self.marks())


def ceremony_step(status: str | None, *, targets_frozen: bool = False) -> CeremonyStep:
    """The step for a draw's stored ``status`` (None: no draw yet). Raises ValueError for an unknown status."""
    if status is None or status == "withdrawn":
        return CeremonyStep(2 if targets_frozen else 1, False)
    if status == "computed":
        return CeremonyStep(3, False)
    if status == "committed":
        return CeremonyStep(4, False)
    if status == "revealed":
        return CeremonyStep(6, True)
    raise ValueError(f"unknown draw status {status!r}")


def step(number: int) -> CeremonyStep:
    """Step ``number`` (1 … 6) before the reveal, e.g. for a section headed by its step."""
    if not 1 <= int(number) <= len(STEPS):
        raise ValueError(f"there are {len(STEPS)} steps, not {number!r}")
    return CeremonyStep(int(number), False)


SCREENS = ("computing", "inputs", "lottery", "ceremony")


def draw_screen(status: str | None, *, computing: bool = False, starting_again: bool = False) -> str:
    """What the Draw page shows, from the latest draw's stored ``status`` (None: no draw yet):

    - ``computing``: a lottery is being computed (its progress, nothing else);
    - ``inputs``: steps 1 and 2 (no draw yet, or the organiser chose to start a new one);
    - ``lottery``: a computed lottery: its chances in full, the choice of lottery, then step 3;
    - ``ceremony``: a published, revealed or withdrawn draw: steps 3 to 6, the chances folded away.
    """
    if computing:
        return "computing"
    if status is None or starting_again:
        return "inputs"
    if status == "computed":
        return "lottery"
    if status in ("committed", "revealed", "withdrawn"):
        return "ceremony"
    raise ValueError(f"unknown draw status {status!r}")


def open_round(rounds: Sequence[Any], tip_id: int) -> Any | None:
    """The replacement round whose ceremony is under way (computed or committed, on the current panel,
    draw ``tip_id``), the latest if several; None when there is none."""
    pending = [r for r in rounds if r.status in ("computed", "committed") and r.parent_id == tip_id]
    return pending[-1] if pending else None


def earlier_rounds(rounds: Sequence[Any], tip_id: int) -> list[Any]:
    """Revealed replacement rounds before the current panel's, latest first."""
    return [r for r in reversed(rounds) if r.status == "revealed" and r.draw_id != tip_id]
