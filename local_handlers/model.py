"""Run the model Lambda (functions/model.py) locally, stoppable under a debugger.

python local_handlers/model.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/model.py events/model/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("model"))
