"""The store: the one DuckDB connection per process, numbered migrations, settings, configuration.

Lowest layer of the app: imports nothing from the other packages (see docs/adr/0003).
"""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "db": ("Database", "DatabaseBusy", "open_database"),
        "settings": ("get_setting", "set_setting"),
        "config": ("db_path", "MIGRATIONS_DIR"),
        "demo_marker": ("is_demo_database", "holds_only_demo"),
    },
)
