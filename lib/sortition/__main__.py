"""``python -m lib.sortition draw|check|verify|replace ...`` (see ``cli.py``)."""

import sys

from lib.sortition.cli import main

if __name__ == "__main__":
    sys.exit(main())
