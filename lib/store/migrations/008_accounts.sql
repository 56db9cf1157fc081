-- 008: personal accounts for organisers and volunteers, and signed-out sign-in cookies.
-- Passwords and invitation codes are stored only as hashes. No foreign keys.

CREATE SEQUENCE account_seq START 1;
CREATE TABLE accounts (
    account_id      INTEGER PRIMARY KEY DEFAULT nextval('account_seq'),
    name            VARCHAR NOT NULL,          -- as the team knows the person ('' for the set-up invitation)
    email           VARCHAR,                   -- optional, lower case; may be used to sign in
    role            VARCHAR NOT NULL,          -- 'organiser' | 'volunteer'
    status          VARCHAR NOT NULL,          -- 'invited' | 'active' | 'revoked'
    password_hash   VARCHAR,                   -- PBKDF2-SHA256, set by the person when they accept
    invite_hash     VARCHAR,                   -- SHA-256 of the pending one-time invitation code
    invite_expires  TIMESTAMPTZ,
    token_epoch     INTEGER NOT NULL DEFAULT 0,-- raised on revoke and new invitation: old cookies stop working
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    created_by      VARCHAR,
    activated_at    TIMESTAMPTZ,
    last_sign_in    TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    revoked_by      VARCHAR
);

-- Who did what to which account (invited, accepted, revoked, invited again).
CREATE SEQUENCE account_event_seq START 1;
CREATE TABLE account_events (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('account_event_seq'),
    account_id   INTEGER NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    kind         VARCHAR NOT NULL,
    actor        VARCHAR
);

-- Sign-in cookies ended by "Sign out" before they expire (by the token's random id).
CREATE TABLE signed_out_tokens (
    token_id     VARCHAR PRIMARY KEY,
    expires_at   TIMESTAMPTZ NOT NULL
);
