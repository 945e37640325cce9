"""``python -m pinn_mrepu {solve,compare,criticality} ...``."""

import sys

from .cli import main

sys.exit(main())
