"""The device facts, stated once: firmware, training and the host tools import them from here.

The Lambda package (functions/) cannot import this module; tests/test_one_source.py pins the
copies it keeps (file names, version format) to these.
"""

try:
    from micropython import const
except ImportError:

    def const(x):
        return x


# This firmware's version, sent in every heartbeat (`firmware_version`); the API's `Version`
# format (below). Bump it with every change to firmware/ that is flashed to devices.
FIRMWARE_VERSION = "0.2.0"

CAPTURE_HZ = const(100)  # the IMU is sampled at this rate (Hz)
STEP_MS = const(10)  # ms between two capture samples: 1000 // CAPTURE_HZ
SIGNALS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")  # sample order

# A model folder: the manifest, the model (the device prefers .mpy) and its test vectors.
MANIFEST_FILE = "manifest.json"
MODEL_MPY = "model.mpy"  # bytecode (mpy-cross)
MODEL_SOURCE = "model.py"  # the same code as source
MODEL_FILES = (MODEL_MPY, MODEL_SOURCE)
VECTORS_FILE = "vectors.json"

# A model version: 1-64 of these characters (no ':' or '/': it names folders and keys).
VERSION_MAX = const(64)
VERSION_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
