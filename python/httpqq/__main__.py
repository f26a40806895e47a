"""``python -m httpqq``: the command-line client (see :mod:`httpqq.cli`)."""

import sys

from httpqq.cli import main

if __name__ == "__main__":
    sys.exit(main())
