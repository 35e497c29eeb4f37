"""Run the ingest Lambda (functions/ingest.py) locally, stoppable under a debugger.

python local_handlers/ingest.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/ingest.py events/ingest/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("ingest"))
