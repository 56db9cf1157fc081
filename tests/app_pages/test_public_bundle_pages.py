"""Issue 13, point 2: the bundle anybody downloads identifies nobody; the complete one is for organisers.

Runs the real app (AppTest) on the demo with a real, revealed draw (seven questions, 596 sign-ups).
"""

from __future__ import annotations

from tests.app_pages.drawn_demo import use_drawn_demo
from tests.app_pages.helpers import goto, open_app




def _pool():
    from lib.recruitment.quotas import build_instance
    from lib.resources import get_db

    return build_instance(get_db(), [], 1)


def test_the_public_download_identifies_nobody_and_verifies(app_env, tmp_path_factory, downloads):
    use_drawn_demo(app_env, tmp_path_factory)
    goto(open_app(None), "pages/transparency.py")
    files = dict(downloads)
    assert not [label for label in files if "auditor" in label.lower()]
    bundle = files["Download the audit bundle (bundle.zip)"]
    from lib import draws
    from lib.resources import get_db
    from lib.sortition.audit.bundle import read_bundle
    from lib.sortition.audit.verify import verify_bundle
    from tests.privacy_checks import k_anonymity_problems

    rec = draws.revealed_draw(get_db())
    # no row or combination of answers below 5 people, and no door pseudonym (check-in list, sign-in
    # sheet, access cards all show person_id) anywhere in it
    assert k_anonymity_problems(read_bundle(bundle), _pool()) == []
    pseudonyms = [r[0] for r in get_db().query("SELECT person_id FROM people")]
    text = bundle.decode("latin-1")
    assert not [p for p in pseudonyms if p in text]
    res = verify_bundle(bundle, commitment=rec.commitment, public_number=rec.public_number)
    assert res.ok, res.problems
    assert "checked: the PUBLIC bundle" in res.report()


def test_only_a_signed_in_organiser_gets_the_auditors_bundle(app_env, tmp_path_factory, downloads):
    use_drawn_demo(app_env, tmp_path_factory)
    at = goto(open_app("organiser"), "pages/draw.py")
    files = dict(downloads)
    label = "Download the auditors' bundle (confidential: every answer)"
    assert label in files
    from lib.sortition.audit.verify import verify_bundle

    res = verify_bundle(files[label])
    assert res.ok, res.problems
    assert "checked: the AUDITORS' bundle" in res.report()
    assert "never publish it" in " ".join(c.value for c in at.caption)
    downloads.clear()
    goto(open_app(None), "pages/transparency.py")
    assert downloads and files[label] not in downloads.values()
