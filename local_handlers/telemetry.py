"""Run the telemetry Lambda (functions/telemetry.py) locally, stoppable under a debugger.

python local_handlers/telemetry.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/telemetry.py events/telemetry/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("telemetry"))
