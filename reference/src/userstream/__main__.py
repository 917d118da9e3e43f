"""``python -m userstream``: the ``userstream`` command."""

import sys

from userstream.cli import main

sys.exit(main())
