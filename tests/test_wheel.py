"""A non-editable install works: the wheel holds the device package `gesture` the host imports."""

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UV = REPO / ".tools" / "bin" / "uv"


def test_training_detect_imports_from_the_wheel_alone(tmp_path):
    built = subprocess.run(
        [str(UV), "build", "--wheel", "--offline", "-q", "-o", str(tmp_path / "dist")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    assert (unpacked / "gesture" / "spec.py").is_file()
    # -I -S: no editable-install .pth, no repository on sys.path; only the wheel, then the
    # third-party packages (added without their .pth files).
    script = (
        "import sys\n"
        f"sys.path[:0] = [{str(unpacked)!r}]\n"
        f"sys.path.append({sysconfig.get_paths()['purelib']!r})\n"
        "import gesture.detector, training.detect, training.manifest\n"
        "print(gesture.detector.__file__, training.detect.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(path.startswith(str(unpacked)) for path in result.stdout.split())
