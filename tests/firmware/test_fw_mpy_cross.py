"""Every firmware module compiles with mpy-cross, and the compiled package still runs."""

from fw_harness import FIRMWARE, compile_mpy, run_micropython


def test_every_firmware_module_compiles_and_imports_as_mpy(tmp_path):
    sources = sorted(FIRMWARE.rglob("*.py"))
    assert len(sources) >= 15
    out = tmp_path / "mpy"
    for src in sources:
        dst = out / src.relative_to(FIRMWARE).with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        compile_mpy(src, dst)
    modules = sorted(p.stem for p in (out / "lib" / "gesture").glob("*.mpy"))
    assert {"app", "detector", "mpu6500", "outbox", "ota", "sampler"} <= set(modules)
    code = "import sys\nsys.path[:0] = ['lib']\n" + "".join(
        f"import gesture.{name}\nassert gesture.{name}.__file__.endswith('.mpy')\n"
        for name in modules
    )
    (out / "check.py").write_text(code + "print('imported', len(sys.modules))\n")
    result = run_micropython(["check.py"], cwd=out)
    assert result.returncode == 0 and "imported" in result.stdout, result.stdout + result.stderr
