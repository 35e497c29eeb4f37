"""Run the query Lambda (functions/query.py) locally, stoppable under a debugger.

python local_handlers/query.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/query.py events/query/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("query"))
