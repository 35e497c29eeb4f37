"""Run the devices Lambda (functions/devices.py) locally, stoppable under a debugger.

python local_handlers/devices.py [EVENT.json ...] [--aws]
python -m pdb local_handlers/devices.py events/devices/valid.json
"""

import sys

from _runner import run

if __name__ == "__main__":
    sys.exit(run("devices"))
