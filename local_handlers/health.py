"""Run the health Lambda (functions/health.py) locally, stoppable under a debugger.

python local_handlers/health.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/health.py events/health/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("health"))
