"""Run test functions of a MicroPython test module under the micropython binary.

usage: micropython mprunner.py MODULE [TEST ...]; prints `PASS name` or `FAIL name` + traceback,
exit status 1 if any failed.
"""

import sys


def main(argv):
    module = __import__(argv[1])
    names = argv[2:] or [n for n in dir(module) if n.startswith("test_")]
    failed = 0
    for name in names:
        try:
            getattr(module, name)()
            print("PASS", name)
        except Exception as exc:  # report every failure, keep going
            failed += 1
            print("FAIL", name)
            sys.print_exception(exc)
    return 1 if failed else 0


sys.exit(main(sys.argv))
