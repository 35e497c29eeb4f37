"""MPU6500 driver against a fake register map (runs under micropython)."""

import errno

from gesture import units
from gesture.fakes import FakeMPU6500Bus
from gesture.mpu6500 import MPU6500


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as exc:
        return exc
    raise AssertionError(f"{exc_type.__name__} not raised")


def test_init_configures_2g_250dps_100hz_and_wakes():
    bus = FakeMPU6500Bus()
    MPU6500(bus)
    assert bus.writes[0] == (0x6B, 0x80), bus.writes  # reset first
    assert bus.regs[0x6B] == 0x01  # awake, PLL clock
    assert bus.regs[0x1C] == 0x00  # ACCEL_CONFIG +-2 g
    assert bus.regs[0x1B] == 0x00  # GYRO_CONFIG +-250 deg/s
    assert bus.regs[0x19] == 9  # 1 kHz / (1 + 9) = 100 Hz


def test_wrong_who_am_i_is_an_oserror():
    exc = _raises(OSError, MPU6500, FakeMPU6500Bus(whoami=0x68))
    assert "WHO_AM_I=0x68" in str(exc)


def test_bad_sample_rate_divider_is_a_valueerror():
    _raises(ValueError, MPU6500, FakeMPU6500Bus(), 0x68, 300)


def test_burst_read_gives_signed_counts_in_axis_order():
    bus = FakeMPU6500Bus()
    imu = MPU6500(bus)
    bus.set_counts(1, -1, 16384, -32768, 32767, -131, temp=1234)
    out = [0] * 8
    imu.read_counts_into(out, 2)
    assert out == [0, 0, 1, -1, 16384, -32768, 32767, -131], out


def test_si_conversion_uses_the_shared_units():
    bus = FakeMPU6500Bus()
    imu = MPU6500(bus)
    bus.set_counts(0, 0, 16384, 131, 0, -262)
    ax, ay, az = imu.acceleration()
    gx, _gy, gz = imu.gyro()
    assert abs(az - units.G) < 1e-9 and ax == 0 and ay == 0
    assert abs(gx - 1.0) < 1e-9 and abs(gz + 2.0) < 1e-9


def test_si_to_raw_round_trips_through_the_registers():
    bus = FakeMPU6500Bus()
    imu = MPU6500(bus)
    sample = (0.5, -19.6133, 9.80665, 250.0, -0.4, 12.3)
    counts = units.si_to_raw(*sample)
    bus.set_counts(*counts)
    assert tuple(imu.read_counts()) == counts


def test_bus_fault_raises_oserror_and_recovers():
    bus = FakeMPU6500Bus()
    imu = MPU6500(bus)
    bus.fault = True
    exc = _raises(OSError, imu.read_counts_into, [0] * 6)
    assert exc.errno == errno.EIO
    bus.fault = False
    bus.set_counts(1, 2, 3, 4, 5, 6)
    assert imu.read_counts() == [1, 2, 3, 4, 5, 6]


def test_wrong_address_is_an_oserror():
    _raises(OSError, MPU6500, FakeMPU6500Bus(address=0x69))


def test_burst_read_allocates_nothing():
    import micropython

    bus = FakeMPU6500Bus()
    imu = MPU6500(bus)
    out = [0] * 6
    imu.read_counts_into(out)
    micropython.heap_lock()
    try:
        for _ in range(100):
            imu.read_counts_into(out)
    finally:
        micropython.heap_unlock()
