"""benchmarks/public_clips.py: the Gyronics CSVs (raw counts, serial-link damage) become clips."""

from gesture import units

from benchmarks.public_clips import SET, clip_rows, convert
from training.clips import class_folders, read_clip

HEADER = "Ax,Ay,Az,Gx,Gy,Gz,Roll,Pitch,Yaw,Timestamp,Target\n"


def dataset_csv(rows: int) -> str:
    lines = [f"{i},{-i},16384,131,{-262},0,0,0,0,{1000 + 10 * i}," for i in range(rows)]
    lines.insert(5, "-2804,-11652,11544,-496,377,80,-52000,128,10068,-277")  # merged: 10 fields
    lines.insert(9, "428,136,99999,-410,191,11,0,-1000,183000,19776,")  # outside int16
    lines.insert(12, "0,0,0,0,0,0,0,-1000,183000,19772,")  # the link's empty first row
    return HEADER + "\n".join(lines) + "\n"


def test_damaged_rows_are_dropped_and_counts_become_si_on_the_100_hz_grid(tmp_path):
    path = tmp_path / "0.csv"
    path.write_text(dataset_csv(60))
    rows = clip_rows(path)
    assert len(rows) == 60
    assert [r[6] for r in rows[:3]] == [0.0, 10.0, 20.0]
    assert abs(rows[0][2] - units.G) < 1e-9 and abs(rows[0][3] - 1.0) < 1e-9
    assert abs(rows[0][4] + 2.0) < 1e-9


def test_convert_writes_a_clip_folder_training_reads(tmp_path):
    for gesture, subject in (("Swipe_Up", 0), ("circle_clk", 1), ("circle_clk", 7)):
        folder = tmp_path / "src" / SET / gesture / f"subject_{subject}"
        folder.mkdir(parents=True)
        (folder / "3.csv").write_text(dataset_csv(80))
    counts = convert(tmp_path / "src", tmp_path / "clips", subjects=2)
    assert counts == {"swipe_up": 1, "circle_clk": 1}  # subject 7 is beyond the first two
    clips = class_folders(tmp_path / "clips")
    assert sorted(clips) == ["circle_clk", "swipe_up"]
    assert read_clip(clips["swipe_up"][0]).shape == (80, 6)
