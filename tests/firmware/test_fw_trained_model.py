"""With a model trained by the training pipeline (tiny grid): the firmware under micropython
prints exactly the lines `detect` prints, and its model.mpy reproduces the test vectors."""

import json

import pytest
from fw_harness import run_micropython

from gesture_stack.cli import main


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    from training.pipeline import train
    from training.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("trained")
    generate_dataset(root / "data", seed=0, count=8, duration_s=90)
    return train(root / "data", root / "model", grid="tiny").model_dir


@pytest.mark.parametrize("seed", [101, 202])
def test_replay_lines_equal_detect_lines(trained_model, tmp_path, capsys, seed):
    from training.detect import detect_samples
    from training.recordings import read_recording, write_recording
    from training.synthetic import generate_recording

    samples, _ = generate_recording(seed, 60.0)
    recording = write_recording(tmp_path / "rec.csv", samples)
    expected = detect_samples(trained_model, read_recording(recording))
    assert main(["replay", str(recording), "--model", str(trained_model)]) == 0
    assert len(expected) >= 5
    assert capsys.readouterr().out.splitlines() == [json.dumps(e) for e in expected]


def test_model_mpy_reproduces_the_test_vectors_under_micropython(trained_model, tmp_path):
    vectors = json.loads((trained_model / "vectors.json").read_text())["vectors"]
    (tmp_path / "model.mpy").write_bytes((trained_model / "model.mpy").read_bytes())
    (tmp_path / "vectors.json").write_text(json.dumps(vectors))
    (tmp_path / "check.py").write_text(
        "import json, sys\nsys.path.insert(0, '.')\nfrom model import score\n"
        "worst = 0.0\nfor v in json.load(open('vectors.json')):\n"
        "    got = score(v['features'])\n"
        "    worst = max([worst] + [abs(a - b) for a, b in zip(got, v['proba'])])\n"
        "print('worst', worst)\n"
    )
    result = run_micropython(["check.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(vectors) >= 50
    assert float(result.stdout.split()[-1]) < 1e-9
