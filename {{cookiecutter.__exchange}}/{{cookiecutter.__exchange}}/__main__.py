"""``python -m <this package> watch``: a live view of the account, ``userstream watch`` on this project."""

import sys
from pathlib import Path

from userstream.cli.watch import main_for_project

if __name__ == "__main__":
    sys.exit(main_for_project(Path(__file__).resolve().parent.parent, prog=f"python -m {__package__}"))
