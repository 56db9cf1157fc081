"""Reporting: representativeness measures by stage, Altair charts, the printable transparency report."""

from lib import public_face

__all__, __getattr__ = public_face(
    __name__,
    {
        "representativeness": ("collect_stages", "comparison", "tvd_table"),
        "charts": ("field_chart", "chance_chart"),
        "transparency": ("build_report",),
    },
)
