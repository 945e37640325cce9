"""``python -m pinn_mrepu {solve,compare,criticality} ...``."""

import sys

from pinn_mrepu.cli import main

sys.exit(main())
