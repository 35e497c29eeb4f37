"""Runs first on the board. Kept trivial so a bad configuration can never lock out the REPL:
Wi-Fi, NTP and the CPU clock are set up by gesture.app.main from config.json."""

import gc

gc.collect()
