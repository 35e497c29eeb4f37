"""Run the samples Lambda (functions/samples.py) locally, stoppable under a debugger.

python local_handlers/samples.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/samples.py events/samples/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("samples"))
