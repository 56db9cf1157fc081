"""The audit kernel of the draw: standard library only (a test enforces it).

The instance format and the one panel rule (``model``), the ceremony's hashes and the frozen
lottery (``ceremony``), the audit and public bundles (``bundle``, ``public``), their verifiers
(``verify``, ``public_verify``) and the hash-chained public record (``record``).
"""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "model": ("Instance", "Quota", "Person", "InputError", "load_instance", "PanelChecker"),
        "ceremony": ("FrozenLottery", "draw_hash", "normalise_public_number"),
        "bundle": ("write_bundle", "read_bundle"),
        "verify": ("verify_bundle", "verify_file"),
        "record": ("check_record",),
    },
)
