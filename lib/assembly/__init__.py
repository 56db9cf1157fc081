"""The assembly once drawn: members' status timeline, sessions and check-in, support, contact,
stipends, replacements, the members' printable access cards, and the receipts handed to the people in a
draw's pool."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "participation": (
            "enrol_panel",
            "current_members",
            "member_statuses",
            "attendance_frame",
            "attended_last_session",
            "checkin_roster",
            "awaiting_replacement",
            "sync_replacements",
        ),
        "access_cards": ("cards_html",),
        "receipts": ("receipts_frame", "receipts_csv", "why_no_receipts", "check_receipt"),
    },
)
