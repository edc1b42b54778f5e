"""``python -m txarakoon``: the command line (see :mod:`txarakoon.cli`)."""

from .cli import main

raise SystemExit(main())
