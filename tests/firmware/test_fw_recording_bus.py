"""The fake MPU6500 serves a recording as the counts the host computes with gesture.units."""

from fw_harness import run_micropython, write_synthetic_recording
from gesture import units

from training.recordings import read_recording

SCRIPT = """
import sys
from gesture.fakes import RecordingBus, open_recording
from gesture.mpu6500 import MPU6500
imu = MPU6500(RecordingBus(open_recording(sys.argv[1])))
out = [0] * 6
for _ in range(int(sys.argv[2])):
    imu.read_counts_into(out)
    print(*out)
"""


def test_si_recording_reaches_the_driver_as_the_host_counts(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=4, duration_s=30)
    rows = read_recording(recording)
    (tmp_path / "serve.py").write_text(SCRIPT)
    result = run_micropython(["serve.py", str(recording), str(len(rows))], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = [tuple(map(int, line.split())) for line in result.stdout.splitlines()]
    expected = [units.si_to_raw(*row[:6]) for row in rows]
    assert got == expected
    assert any(abs(v) == 32768 or abs(v) == 32767 for row in expected for v in row)
