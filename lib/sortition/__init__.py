"""The draw engine: feasibility, LEXIMIN and Goldilocks by column generation (HiGHS), the legacy
greedy draw, rounding to a lottery of equally likely panels, the worker process with a hard
deadline, replacements, and the command line (``python -m lib.sortition``).

The audit kernel (instance format, panel rule, ceremony, bundles, verifier, public record) is
``lib.sortition.audit``: standard library only, so that anyone can verify a draw with Python alone.
Nothing here is imported eagerly: ``python -m lib.sortition verify`` must not load HiGHS or numpy.
"""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "prepare": ("prepare_lottery", "PreparedLottery"),
        "feasibility": ("check_feasibility", "InfeasibleQuotas"),
        "leximin": ("leximin",),
        "goldilocks": ("goldilocks",),
        "legacy": ("legacy_draw",),
        "rounding": ("round_to_uniform",),
        "worker": ("lottery_in_worker",),
        "replacement": ("prepare_replacement",),
    },
)
