"""``python -m h200cast``: the same as the ``h200cast`` command."""

import sys

from h200cast.cli import main

sys.exit(main())
