"""MPU6500 unit conversion at +-2 g / +-250 deg/s: int16 counts <-> SI (m/s^2, deg/s).

Runs unchanged under CPython and MicroPython. Rounding is half away from zero (explicit, not
the interpreter's round()) so both give identical counts; values outside int16 clip, as the
sensor saturates.
"""

try:
    from micropython import const
except ImportError:

    def const(x):
        return x


from gesture.spec import SIGNALS  # noqa: F401  (the order of the conversions below)

ACC_LSB_PER_G = const(16384)
GYRO_LSB_PER_DPS = const(131)
G = 9.80665
INT16_MIN = const(-32768)
INT16_MAX = const(32767)

ACC_SI_PER_LSB = G / ACC_LSB_PER_G  # m/s^2 per count
GYRO_SI_PER_LSB = 1.0 / GYRO_LSB_PER_DPS  # deg/s per count
# Scale from counts to SI per signal, in SIGNALS order.
SI_PER_LSB = (
    ACC_SI_PER_LSB,
    ACC_SI_PER_LSB,
    ACC_SI_PER_LSB,
    GYRO_SI_PER_LSB,
    GYRO_SI_PER_LSB,
    GYRO_SI_PER_LSB,
)


def to_count(value, lsb_per_unit):
    """One SI value (already divided into the sensor's unit) to a clipped int16 count."""
    scaled = value * lsb_per_unit
    if scaled != scaled:  # NaN
        raise ValueError("NaN sample")
    count = int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)
    if count < INT16_MIN:
        return INT16_MIN
    if count > INT16_MAX:
        return INT16_MAX
    return count


def acc_to_raw(ms2):
    """Acceleration in m/s^2 to int16 counts."""
    return to_count(ms2 / G, ACC_LSB_PER_G)


def gyro_to_raw(dps):
    """Angular velocity in deg/s to int16 counts."""
    return to_count(dps, GYRO_LSB_PER_DPS)


def si_to_raw(ax, ay, az, gx, gy, gz):
    """SI sample (m/s^2 x3, deg/s x3) to a tuple of six int16 counts."""
    return (
        acc_to_raw(ax),
        acc_to_raw(ay),
        acc_to_raw(az),
        gyro_to_raw(gx),
        gyro_to_raw(gy),
        gyro_to_raw(gz),
    )


def raw_to_si(ax, ay, az, gx, gy, gz):
    """Six int16 counts to an SI tuple (m/s^2 x3, deg/s x3)."""
    a = ACC_SI_PER_LSB
    w = GYRO_SI_PER_LSB
    return (ax * a, ay * a, az * a, gx * w, gy * w, gz * w)
