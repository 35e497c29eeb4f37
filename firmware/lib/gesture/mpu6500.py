"""MPU6500 IMU driver over I2C: +-2 g, +-250 deg/s, burst reads with no per-sample allocation."""

from gesture import units
from micropython import const

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_CONFIG2 = const(0x1D)
_ACCEL_XOUT_H = const(0x3B)
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_WHO_AM_I = const(0x75)

_RESET = const(0x80)
_CLKSEL_PLL = const(0x01)
_DLPF_41HZ = const(0x03)
_FS_2G = const(0x00)
_FS_250DPS = const(0x00)
_BURST_BYTES = const(14)  # acc xyz, temperature, gyro xyz; big-endian int16

ADDRESS = const(0x68)
# MPU6500 answers 0x70; MPU9250/9255 (same accel/gyro die) answer 0x71/0x73.
WHO_AM_I_IDS = (0x70, 0x71, 0x73)


def _int16(buf, i):
    """Signed big-endian 16-bit value at buf[i]; small-int arithmetic only."""
    v = (buf[i] << 8) | buf[i + 1]
    return v - 0x10000 if v & 0x8000 else v


class MPU6500:
    """MPU6500 on an I2C bus (machine.I2C or a fake with the same methods)."""

    def __init__(self, i2c, address=ADDRESS, sample_rate_div=9, sleep_ms=None):
        if not 0 <= sample_rate_div <= 255:
            raise ValueError("sample_rate_div must be 0..255")
        self._i2c = i2c
        self._address = address
        self._buf = bytearray(_BURST_BYTES)
        self._mv = memoryview(self._buf)
        self._byte = bytearray(1)
        whoami = self._read_reg(_WHO_AM_I)
        if whoami not in WHO_AM_I_IDS:
            raise OSError(f"MPU6500 not found: WHO_AM_I=0x{whoami:02x}")
        self._write_reg(_PWR_MGMT_1, _RESET)
        if sleep_ms:
            sleep_ms(100)
        self._write_reg(_PWR_MGMT_1, _CLKSEL_PLL)
        self._write_reg(_PWR_MGMT_2, 0x00)  # all six axes on
        self._write_reg(_CONFIG, _DLPF_41HZ)
        self._write_reg(_SMPLRT_DIV, sample_rate_div)  # 1 kHz / (1 + div): 100 Hz by default
        self._write_reg(_GYRO_CONFIG, _FS_250DPS)
        self._write_reg(_ACCEL_CONFIG, _FS_2G)
        self._write_reg(_ACCEL_CONFIG2, _DLPF_41HZ)

    def _read_reg(self, reg):
        self._i2c.readfrom_mem_into(self._address, reg, self._byte)
        return self._byte[0]

    def _write_reg(self, reg, value):
        self._byte[0] = value
        self._i2c.writeto_mem(self._address, reg, self._byte)

    def read_counts_into(self, out, offset=0):
        """Burst-read six int16 counts (acc xyz, gyro xyz) into out[offset:offset + 6]."""
        buf = self._buf
        self._i2c.readfrom_mem_into(self._address, _ACCEL_XOUT_H, self._mv)
        out[offset] = _int16(buf, 0)
        out[offset + 1] = _int16(buf, 2)
        out[offset + 2] = _int16(buf, 4)
        out[offset + 3] = _int16(buf, 8)
        out[offset + 4] = _int16(buf, 10)
        out[offset + 5] = _int16(buf, 12)

    def read_counts(self):
        """Six int16 counts (acc xyz, gyro xyz) as a new list; allocates, so not for sampling."""
        out = [0] * 6
        self.read_counts_into(out)
        return out

    def acceleration(self):
        """Acceleration (x, y, z) in m/s^2."""
        c = self.read_counts()
        k = units.ACC_SI_PER_LSB
        return c[0] * k, c[1] * k, c[2] * k

    def gyro(self):
        """Angular velocity (x, y, z) in deg/s."""
        c = self.read_counts()
        k = units.GYRO_SI_PER_LSB
        return c[3] * k, c[4] * k, c[5] * k

    def temperature(self):
        """Die temperature in degrees Celsius."""
        self._i2c.readfrom_mem_into(self._address, _ACCEL_XOUT_H, self._mv)
        return _int16(self._buf, 6) / 333.87 + 21.0
