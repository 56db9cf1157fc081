"""Replacement rounds in the public form: the public chain and the auditors' chain both verify, the
dropouts' answers are not published, and everybody keeps their bundle id and receipt across rounds."""

from __future__ import annotations

import pytest

from lib import draws
from lib.sortition.audit.bundle import read_bundle
from lib.sortition.audit.public import parse_public, receipt_code
from lib.sortition.audit.verify import verify_bundle
from tests.draw_fixtures import small_demo_template
from tests.privacy_checks import k_anonymity_problems


@pytest.fixture
def small_db(tmp_path):
    from lib.store.db import open_database

    path = small_demo_template(tmp_path, 10)
    database = open_database(path)
    yield database
    database.close()


def test_a_replacement_round_verifies_in_public_and_for_the_auditors(small_db):
    draws.freeze_targets(small_db, actor="alex")
    rec = draws.compute_draw(small_db, actor="alex", M=100, time_limit=30, legacy_seconds=0)
    draws.commit_draw(small_db, rec.draw_id, actor="alex")
    first = draws.reveal_draw(small_db, rec.draw_id, "12 07 33 41", actor="sam")
    dropouts = first.selected_ids[:2]
    r1 = draws.prepare_replacement(small_db, dropouts, "alex", M=100, time_limit=30)
    draws.commit_draw(small_db, r1.draw_id, actor="alex")
    r1 = draws.reveal_draw(small_db, r1.draw_id, "777", actor="alex")

    public = draws.public_bundle(small_db, r1.draw_id)
    res = verify_bundle(public, commitment=r1.commitment, public_number="777")
    assert res.ok, res.problems
    assert "checked: the PUBLIC bundle" in res.report()
    members = read_bundle(public)
    pool = draws.frozen_lottery(small_db, first.draw_id).instance
    assert k_anonymity_problems(members, pool) == []
    pub = parse_public(members["frozen.jsonl"])
    assert pub.quotas == [] and pub.withheld      # a round's quotas would give the dropouts' answers away

    audit = draws.auditors_bundle(small_db, r1.draw_id)
    res = verify_bundle(audit, commitment=r1.commitment, public_number="777")
    assert res.ok, res.problems
    assert "checked: the AUDITORS' bundle" in res.report()

    # a newcomer's receipt from the ORIGINAL draw works in the round: same bundle id, same salt
    root = draws.frozen_lottery(small_db, first.draw_id)
    newcomer = r1.selected_ids[0]
    res = verify_bundle(public, receipt=receipt_code(root, newcomer))
    assert res.ok and any("PICKED" in line for line in res.info["receipt_lines"])
