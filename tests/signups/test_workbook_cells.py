"""How an OpenDocument sheet's cells read (lib.recruitment.signups.workbooks' reader): tabs, line breaks,
comments inside comments, and a cell's value given as an attribute, each within the limits."""

from __future__ import annotations

import pytest

from lib.errors import UserError
from lib.recruitment.signups.sources import grid_from_upload
from tests.signups.test_workbooks_and_limits import ods


def test_tabs_line_breaks_and_comments_within_comments_read_as_typed():
    row = ('<table:table-row><table:table-cell><text:p>Ann<text:tab/>Lee<text:line-break/>Flat 2</text:p>'
           '<office:annotation><text:p>a note <office:annotation><text:p>inner</text:p></office:annotation>'
           '</text:p></office:annotation></table:table-cell><table:table-cell><text:p>30</text:p>'
           '</table:table-cell></table:table-row>')
    g = grid_from_upload("s.ods", ods({"S": [["Name", "Age"]]}, row_xml={"S": row}))
    assert g.column_values("Name") == ["Ann\tLee\nFlat 2"]
    assert g.column_values("Age") == ["30"]


def test_a_value_given_as_an_attribute_is_read_and_its_length_checked():
    row = ('<table:table-row><table:table-cell office:value-type="float" office:value="42"/>'
           '<table:table-cell office:value-type="string" office:string-value="{}"/></table:table-row>')
    g = grid_from_upload("s.ods", ods({"S": [["Age", "Note"]]}, row_xml={"S": row.format("short")}))
    assert g.column_values("Age") == ["42"] and g.column_values("Note") == ["short"]
    with pytest.raises(UserError, match=r"Row 2, column “Note”.*at most 10,000"):
        grid_from_upload("s.ods", ods({"S": [["Age", "Note"]]}, row_xml={"S": row.format("n" * 10_001)}))
