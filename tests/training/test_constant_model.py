"""The placeholder model (training.manifest.constant_model) runs as a device runs a model: the
detector's call shape, answers the probation check accepts, no event on any input."""

from gesture.probation import check_scores

from training.detect import detect_raw, load_model
from training.manifest import constant_model

CLASSES = ["idle", "wave", "tap"]


def test_the_placeholder_model_answers_idle_in_the_devices_call_shape(tmp_path):
    constant_model(tmp_path, CLASSES)
    manifest, score = load_model(tmp_path)
    out = [7, 7, 7]
    assert score(bytearray(64), 0, [0], out) is out
    check_scores(out, len(CLASSES))
    assert out == [manifest.score_scale, 0, 0]
    motion = [(i * 997 % 30000 - 15000, 0, 16384, i * 31 % 2000, 0, 0) for i in range(600)]
    assert detect_raw(manifest, score, motion) == []
