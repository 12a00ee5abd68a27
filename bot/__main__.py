"""`python -m bot ...` is `loyalty-bot ...`: the same CLI where the script is not on PATH."""

import sys

from bot.cli import main

sys.exit(main())
