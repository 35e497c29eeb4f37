"""Run the counts Lambda (functions/counts.py) locally, stoppable under a debugger.

python local_handlers/counts.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/counts.py events/counts/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("counts"))
