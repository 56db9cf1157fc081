"""Sign-ups: sources (Google Sheets, published CSV, CSV/Excel files), mapping columns to fields,
validation, and the sync into the store (one sync at a time per slot)."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "store": ("pool_frame",),
        "sheets": ("SheetRef", "fetch_values", "write_worksheet"),
        "grid": ("Grid",),
        "mapping": ("Mapping",),
    },
)
