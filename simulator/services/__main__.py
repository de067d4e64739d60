"""`python -m simulator.services`: see `simulator.services.cli`."""

import sys

from .cli import main

sys.exit(main())
