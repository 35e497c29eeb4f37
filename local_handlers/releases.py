"""Run the releases Lambda (functions/releases.py) locally, stoppable under a debugger.

python local_handlers/releases.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/releases.py events/releases/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("releases"))
