"""``python -m hetensor`` is the ``hetensor`` command."""

import sys

from .cli import main

sys.exit(main())
