"""Member-designed evaluation: member codes, the core questionnaire, members' questions, anonymous
answers, results (rules and the anonymity design: docs/EVALUATION.md, docs/adr/0002)."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "survey": ("member_sign_in", "issue_codes", "adoption_base", "open_wave", "submit_answers", "results_frame"),
        "report": ("report_html",),
    },
)
