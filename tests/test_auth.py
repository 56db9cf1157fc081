"""The rules of signing in (lib/access/auth.py): hashes, the demo passwords, throttling, the cookie token."""

from __future__ import annotations

import threading
import time

import pytest

from lib.access import auth

SAFE = 200_000           # the least a stored hash may have (auth.MIN_ITERATIONS)


def test_password_hash_round_trip_and_rejection():
    h = auth.hash_password("correct horse battery", iterations=SAFE)
    assert h.startswith(f"pbkdf2_sha256${SAFE}$")
    assert auth.verify_password("correct horse battery", h)
    assert not auth.verify_password("correct horse batterY", h)
    assert not auth.verify_password("x", "garbage")


@pytest.mark.parametrize("iterations", [1, 1_000, 199_999])
def test_a_hash_with_too_few_rounds_is_never_accepted(iterations):
    weak = auth.hash_password("the right password", iterations=iterations)
    assert not auth.verify_password("the right password", weak)
    assert f"{iterations:,} rounds" in auth.hash_problem(weak)
    [cred] = [auth.role_credentials({"organiser_password_hash": weak}, demo_database=True)[auth.ORGANISER]]
    assert cred.kind == "unsafe" and not cred.usable
    assert not auth.check_shared_password(cred, "the right password")
    assert "python -m lib.access.auth" in cred.unsafe_message()


@pytest.mark.parametrize("stored", ["", "pbkdf2_sha256$600000$salt", "md5$600000$0123456789abcdef$" + "0" * 64,
                                    "pbkdf2_sha256$600000$short$" + "0" * 64,
                                    "pbkdf2_sha256$600000$0123456789abcdef$" + "0" * 63])
def test_a_malformed_hash_is_refused_with_a_reason(stored):
    assert auth.hash_problem(stored)
    assert not auth.verify_password("anything", stored)


def test_the_demo_passwords_work_only_in_the_demo_with_nothing_configured():
    demo = auth.role_credentials(None, demo_database=True)
    assert auth.check_shared_password(demo[auth.ORGANISER], auth.DEMO_PASSWORDS[auth.ORGANISER])
    assert not auth.check_shared_password(demo[auth.ORGANISER], auth.DEMO_PASSWORDS[auth.VOLUNTEER])
    # not a demo database (a real assembly, or KLEROTERION_DEMO=0): every role is locked
    real = auth.role_credentials(None, demo_database=False)
    assert {c.kind for c in real.values()} == {"none"}
    assert not auth.check_shared_password(real[auth.VOLUNTEER], auth.DEMO_PASSWORDS[auth.VOLUNTEER])


def test_the_volunteer_demo_password_stops_once_an_organiser_hash_is_set():
    strong = auth.hash_password("the organisers' password", iterations=SAFE)
    creds = auth.role_credentials({"organiser_password_hash": strong}, demo_database=True)
    assert creds[auth.VOLUNTEER].kind == "none"
    assert not auth.check_shared_password(creds[auth.VOLUNTEER], auth.DEMO_PASSWORDS[auth.VOLUNTEER])
    assert not auth.check_shared_password(creds[auth.ORGANISER], auth.DEMO_PASSWORDS[auth.ORGANISER])
    assert auth.check_shared_password(creds[auth.ORGANISER], "the organisers' password")


def test_an_identity_provider_also_ends_the_demo_passwords():
    creds = auth.role_credentials({"organiser_emails": ["chair@example.org"]}, demo_database=True)
    assert {c.kind for c in creds.values()} == {"none"}
    assert {c.kind for c in auth.role_credentials({}, demo_database=True, login_configured=True).values()} == {"none"}


def test_role_from_identity_provider_email():
    s = {"organiser_emails": ["Chair@Example.org"], "volunteer_emails": ["helper@example.org"]}
    assert auth.role_for_email("chair@example.org", s) == auth.ORGANISER
    assert auth.role_for_email("helper@example.org", s) == auth.VOLUNTEER
    assert auth.role_for_email("someone@example.org", s) is None


def test_actor_label_names_the_person():
    assert auth.actor_label(auth.ORGANISER, "  Sam   Lee ") == "organiser:Sam Lee"
    assert auth.actor_label(auth.ORGANISER, None) == "organiser"


def test_new_passwords_need_length_and_match():
    assert "at least 10" in auth.password_problem("short", "short")
    assert "not the same" in auth.password_problem("long enough one", "long enough two")
    assert auth.password_problem(auth.DEMO_PASSWORDS[auth.ORGANISER])
    assert auth.password_problem("aaaaaaaaaaaa")
    assert auth.password_problem("Sam Lee Sam", name="Sam Lee Sam")
    assert auth.password_problem("kettle orchard lantern", "kettle orchard lantern") is None


# --- throttling ---------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_back_off_after_five_wrong_tries_doubles_and_is_capped():
    clock = Clock()
    th = auth.Throttle(clock=clock)
    keys = [auth.account_key("Sam Lee"), auth.client_key("203.0.113.5")]
    for _ in range(4):
        assert th.begin(keys) == 0            # counted as wrong until shown right
    assert th.begin(keys) == 0                # the fifth try is still checked...
    assert th.begin(keys) == pytest.approx(30)   # ...the sixth is refused at once
    clock.t += 30
    assert th.begin(keys) == 0                # checked again after the wait; wrong again:
    assert th.begin(keys) == pytest.approx(60)
    for _ in range(10):
        clock.t += th.wait(keys)
        th.begin(keys)
    assert th.wait(keys) == pytest.approx(auth.LONGEST_WAIT)
    assert "15 minutes" in auth.too_many_tries(th.wait(keys))


def test_a_right_password_clears_the_account_but_not_the_clients_earlier_wrong_tries():
    th = auth.Throttle(clock=Clock())
    client = auth.client_key("203.0.113.5")
    for i in range(9):                        # one client guesses at nine different accounts
        assert th.begin([auth.account_key(f"person {i}"), client]) == 0
    assert th.begin([auth.account_key("my own account"), client]) == 0
    th.succeeded([auth.account_key("my own account"), client])   # their own account: right
    assert th.wait([client]) == 0
    assert th.begin([auth.account_key("person 10"), client]) == 0   # the tenth wrong one
    assert th.wait([auth.account_key("anyone"), client]) > 0          # now the client waits


def test_many_attempts_at_the_same_moment_cannot_slip_past_the_limit():
    th = auth.Throttle()
    keys = [auth.account_key("organiser"), auth.client_key(None)]
    allowed = []
    barrier = threading.Barrier(16)

    def attempt():
        barrier.wait()
        allowed.append(th.begin(keys) == 0)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == auth.FREE_TRIES[auth.ACCOUNT]


def test_client_key_uses_the_proxys_header_only_for_a_local_connection():
    assert auth.client_key("198.51.100.7", {"X-Forwarded-For": "10.0.0.1"}) == ("client", "198.51.100.7")
    assert auth.client_key(None, {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}) == ("client", "198.51.100.7")
    assert auth.client_key(None, {"X-Real-Ip": "198.51.100.8"}) == ("client", "198.51.100.8")
    assert auth.client_key(None, {}) == ("client", "this machine")


def test_one_throttle_per_deployment_shared_by_every_session():
    assert auth.throttle_for("/tmp/a.duckdb") is auth.throttle_for("/tmp/a.duckdb")
    assert auth.throttle_for("/tmp/a.duckdb") is not auth.throttle_for("/tmp/b.duckdb")


def test_checking_a_password_leaves_other_threads_running():
    """PBKDF2 in hashlib releases the GIL: while one password is checked, other visitors' pages keep
    running. Measured: a second thread notes the time at every turn of a loop; had the hash held the
    GIL, that thread would stand still for the whole hash (one gap as long as the hash)."""
    stored = auth.hash_password("x" * 12)
    done = threading.Event()
    stamps: list[float] = []

    def other_visitor():
        while not done.is_set():
            stamps.append(time.perf_counter())

    t = threading.Thread(target=other_visitor)
    t.start()
    while not stamps:
        time.sleep(0.001)
    t0 = time.perf_counter()
    auth.verify_password("y" * 12, stored)
    t1 = time.perf_counter()
    done.set()
    t.join()
    during = [s for s in stamps if t0 <= s <= t1]
    gaps = [b - a for a, b in zip([t0] + during, during + [t1])]
    assert max(gaps) < (t1 - t0) / 2, (max(gaps), t1 - t0)


# --- the "stay signed in" token -----------------------------------------------------------------
def test_token_round_trip_expiry_and_tampering():
    secret = b"k" * 32
    token, claims = auth.issue_token(secret, "account:7", "3", now=1_000_000)
    assert auth.read_token(secret, token, now=1_000_000 + 3600) == claims
    assert claims.expires == 1_000_000 + auth.SESSION_HOURS * 3600
    assert auth.read_token(secret, token, now=claims.expires) is None           # expired
    assert auth.read_token(b"x" * 32, token, now=1_000_000) is None             # another server's key
    payload, mac = token.split(".")
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["s"] = "account:1"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=") + "." + mac
    assert auth.read_token(secret, forged, now=1_000_000) is None
    assert auth.read_token(secret, "garbage", now=1_000_000) is None
    assert auth.read_token(secret, None, now=1_000_000) is None


def test_the_cookie_key_is_made_once_beside_the_database(tmp_path):
    path = tmp_path / "app.duckdb.session-key"
    first = auth.session_secret(path)
    assert auth.session_secret(path) == first and len(first) == 64
    assert path.stat().st_mode & 0o077 == 0              # readable by the server's user only
    assert auth.session_secret(path, "s" * 40) == b"s" * 40


def test_cookie_script_is_strict_and_only_carries_a_token():
    token, _ = auth.issue_token(b"k" * 32, "role:organiser", "abc")
    js = auth.cookie_script(token)
    assert "SameSite=Strict" in js and "Secure" in js and token in js
    assert "Max-Age=0" in auth.cookie_script(None)
    with pytest.raises(ValueError):
        auth.cookie_script("x'; alert(1); '")


def test_who_did_it_in_words_for_a_history_table():
    from lib.access.auth import actor_in_words

    assert actor_in_words("organiser:Sam Lee") == "Sam Lee"
    assert actor_in_words("organiser") == "An organiser"
    assert actor_in_words("volunteer") == "A volunteer"
    assert actor_in_words(None) == "" and actor_in_words(float("nan")) == ""  # type: ignore[arg-type]
    assert actor_in_words("sheet sync") == "sheet sync"
