"""``python -m lrkit.demo [options]``: the same as ``lrkit demo [options]``."""

import sys

from lrkit.demo.cli import main

sys.exit(main())
