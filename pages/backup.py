"""Backup and restore (organisers): download the whole assembly as one file; restore one into an empty
database. The rules live in lib/backup.py."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

from lib import backup
from lib.plaintext import md
from pages.common import act, db, require, run_page, show_flashes

FILE_KEY = "backup_file"  # (file name, bytes, what it holds) of the backup made in this session


def make_section() -> None:
    st.subheader("Download a backup")
    st.write(
        "A backup is one file that holds the whole assembly: the sign-ups with their names and contacts, "
        "the questions and targets, draws, members, sessions, survey answers and the team's accounts "
        "(never a password, only its scrambled form). Make one before any big step, and keep it somewhere "
        "safe: **anyone who has the file can read everyone's details**, unless it is locked with a passphrase."
    )
    open_surveys = backup.open_surveys(db())
    with st.form("make_backup"):
        lock = st.checkbox("Lock the backup with a passphrase (recommended)", value=True)
        passphrase = st.text_input(
            "Passphrase (at least 10 characters; a few unrelated words)",
            type="password",
            max_chars=200,
            autocomplete="new-password",
        )
        again = st.text_input("The same passphrase again", type="password", max_chars=200, autocomplete="new-password")
        include_key = False
        if open_surveys:
            include_key = st.checkbox(
                "Include the survey key (only in a locked backup)",
                help="A survey or a round of members' questions is open. Its record of who has already answered "
                "needs the survey key. Without the key, a restored app cannot take new answers to that survey "
                "(you would close it and open a new one). With the key, whoever opens the backup and holds the "
                "members' access codes could see which members have answered. See docs/EVALUATION.md.",
            )
        go = st.form_submit_button("Make a backup now", type="primary")
    st.caption(
        "Nobody can open a locked backup without its passphrase, not even us: write it down and keep it "
        "apart from the file."
    )
    if go:
        pw = passphrase if lock else None
        if lock:
            problem = backup.passphrase_problem(passphrase, again)
            if problem:
                st.error(problem + " (Or untick “Lock the backup” to make an unlocked one.)")
                return
        with st.spinner("Making the backup…"):
            data = backup.make_backup(db(), passphrase=pw, include_survey_key=include_key and lock)
        name = backup.backup_filename(encrypted=pw is not None)
        people = backup.describe(data, pw).tables.get("people", 0)
        st.session_state[FILE_KEY] = (name, data, f"{people:,} sign-ups" + (", locked" if pw else ", not locked"))
    made = st.session_state.get(FILE_KEY)
    if made:
        name, data, what = made
        st.success(f"The backup is ready: {md(name)} ({len(data) / 1024:,.0f} KB, {what}). Download it now.")
        st.download_button(
            "Download the backup",
            data=data,
            file_name=name,
            mime="application/zip",
            type="primary",
            icon=":material/download:",
            on_click="ignore",
        )


def scheduled_section() -> None:
    directory = os.environ.get("KLEROTERION_BACKUP_DIR", "").strip()
    st.subheader("Backups the server makes by itself")
    if not directory:
        st.write(
            "None are set up. Whoever runs the server can have the app write a backup every night "
            "(the setting KLEROTERION_BACKUP_DIR, see docs/DEPLOYING.md)."
        )
        return
    files = (
        sorted(Path(directory).glob("kleroterion-backup-*.zip"), key=lambda p: p.stat().st_mtime)
        if Path(directory).is_dir()
        else []
    )
    hours = os.environ.get("KLEROTERION_BACKUP_HOURS", "24")
    if files:
        last = datetime.fromtimestamp(files[-1].stat().st_mtime, timezone.utc)
        st.write(
            f"Every {md(hours)} hours the server writes a backup into its folder {md(directory)}; "
            f"{len(files)} are kept there, the newest from {last:%d %B %Y, %H:%M} (UTC). Copy them to another "
            "place regularly: a backup on the same disk does not survive the disk."
        )
    else:
        st.warning(
            f"The server should write a backup into {md(directory)} every {md(hours)} hours, but there is "
            "none there yet. If this lasts, tell whoever runs the server (the reason is in its log)."
        )


def restore_section() -> None:
    st.subheader("Restore a backup")
    holds = backup.assembly_summary(db())
    if holds:
        st.info(
            f"A backup can only be restored into an empty database, so nothing is ever overwritten by mistake. "
            f"This one holds an assembly ({holds}). To restore, whoever runs the server starts the app on a "
            "new, empty database with the demo off, and an organiser restores there (docs/DEPLOYING.md)."
        )
        return
    st.write(
        "This database is empty, so a backup can be restored into it: everything in the backup comes back, "
        "including the team's accounts. Afterwards, sign in with your account from the backup."
    )
    with st.form("restore_backup"):
        upload = st.file_uploader("The backup file", type=["zip"])
        passphrase = st.text_input("Its passphrase (if it is locked)", type="password", max_chars=200)
        go = st.form_submit_button("Restore this backup", type="primary")
    if go:
        if upload is None:
            st.error("Choose the backup file first.")
            return
        with st.spinner("Checking and restoring the backup…"):
            act(
                lambda: backup.restore_backup(db(), upload.getvalue(), passphrase=passphrase or None, name=upload.name),
                lambda done: restored_words(done, upload.name),
                before_rerun=lambda _done: after_restore(),
            )


def restored_words(done, name: str) -> str:
    message = (
        f"Restored from {md(name)}: {done.sign_ups:,} sign-ups and everything else, as they were "
        f"on {md(done.created_at[:16].replace('T', ' at '))} (UTC)."
    )
    if done.survey_key == "restored":
        message += " The survey key came back too."
    elif done.survey_key == "in settings":
        message += (
            " The backup holds a survey key, but this app takes its key from its settings "
            "(KLEROTERION_SURVEY_KEY): that one stays."
        )
    return message


def after_restore() -> None:
    """Nothing cached from before is shown again; the account signed in here was replaced by the backup's."""
    from pages import staff_session

    st.cache_data.clear()
    if st.session_state.get("account_id") is not None:
        staff_session.sign_out(
            "The backup's team accounts are now in place: sign in with your account from the backup."
        )


def body() -> None:
    st.title("Backup and restore")
    show_flashes()
    if not require("backup", "This page is for organisers only. Sign in first."):
        return
    make_section()
    st.divider()
    scheduled_section()
    st.divider()
    restore_section()


run_page(body)
