"""Recruitment: sign-ups (signups/), the questions to balance on, population targets, the quotas
they give, the volunteers' live board, and setting up a group's own assembly."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "categories": ("Field", "load_fields", "save_fields"),
        "targets": ("load_targets", "save_target_version", "latest_version"),
        "quotas": ("derive_quotas", "build_instance", "quotas_for_version"),
        "quota_board": ("build_board",),
        "assembly_setup": ("progress", "needs_setup"),
    },
)
