"""The embedded demo assembly (data/demo/): loading it into an empty database only (the marker that
says "this is the demo" is read in lib.store.demo_marker), and the demo's "skip ahead" story."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "load": ("load_demo", "open_demo", "database_state"),
        "story": ("fast_forward",),
    },
)
