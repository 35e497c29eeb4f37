"""Entry point: on the board MicroPython runs this after boot.py; on the unix port run
`micropython firmware/main.py CONFIG.json` with firmware/lib on MICROPYPATH."""

import sys

from gesture import app

app.main(sys.argv[1] if len(sys.argv) > 1 else "config.json")
