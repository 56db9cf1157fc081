"""Errors meant for people: their text says what went wrong, where, and what to do.

Also the one way our command lines turn errors into messages and exit codes (``run_command``), used by
the organisers' command line (``python -m lib.cli``) and the draw engine's (``python -m lib.sortition``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable


class UserError(Exception):
    """A problem the user can fix. ``str(error)`` is the plain-language message to show."""


def run_command(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    *,
    plain: tuple[type[BaseException], ...],
    on_plain: Callable[[BaseException, Any], None],
    bug: Callable[[Exception], str],
    exit_input: int = 1,
) -> int:
    """Parse ``argv`` and run the chosen command (``args.func(args)``), never with a traceback.

    No command: the help, exit ``exit_input``. An error of a ``plain`` kind (meant for people):
    ``on_plain(error, args)`` says it, exit ``exit_input``. Ctrl+C: "Interrupted.", exit 130. ``--help``
    and argparse's own errors: argparse's exit code. Anything else is a bug: the message ``bug(error)``,
    exit ``exit_input``, or the traceback when KLEROTERION_DEBUG is set (and not 0)."""
    args = None
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return exit_input
        return int(args.func(args))
    except plain as e:
        on_plain(e, args)
        return exit_input
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except SystemExit as e:  # --help
        return int(e.code or 0) if isinstance(e.code, int) else exit_input
    except Exception as e:  # noqa: BLE001 - never a traceback for people
        if os.environ.get("KLEROTERION_DEBUG", "").strip() not in ("", "0"):
            raise
        print(bug(e), file=sys.stderr)
        return exit_input
