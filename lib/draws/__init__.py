"""The app's draws: freezing the inputs, computing in the background, committing (one live
commitment per slot), revealing, the public record, replacements and the exports."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "records": (
            "DrawRecord",
            "DrawError",
            "latest_draw",
            "revealed_draw",
            "list_draws",
            "current_panel",
            "draw_bundle",
            "freeze_targets",
            "compute_draw",
            "commit_draw",
            "reveal_draw",
            "prepare_replacement",
            "start_draw_job",
            "public_record",
        ),
    },
)
