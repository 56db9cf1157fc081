"""The embedded demo assembly (data/demo/): loading it into an empty database only, the marker that
says "this is the demo", and the demo's "skip ahead" story."""

from lib import public_face

__all__ = ["load_demo", "open_demo", "holds_only_demo", "is_demo_database", "fast_forward"]
__getattr__ = public_face(__name__, {
    "load": ("load_demo", "open_demo", "holds_only_demo", "is_demo_database"),
    "story": ("fast_forward",),
})
