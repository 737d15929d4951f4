"""CSV series: reading, the bundled CO2 record, and bad files as exit-2 messages naming the
line or the column."""

from importlib import resources

import numpy as np
import pytest

from tui_lab import cli, registry
from tui_lab.registry import build_lab
from tui_lab.scenario import ScenarioError
from tui_lab.tasks import series as ts


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_a_column_skipping_comments_and_blank_lines(tmp_path):
    path = write(tmp_path, "# a note\nday,temp,wind\n\n1,2.5,7\n# mid\n2,-1e1,8\n3, 4 ,9\n")
    read = ts.read_csv(path, "temp", "day")
    np.testing.assert_array_equal(read.values, [2.5, -10.0, 4.0])
    assert read.dates == ("1", "2", "3") and read.column == "temp"
    assert ts.read_csv(path, "wind").dates is None
    only = write(tmp_path, "when,level\na,1\nb,2\n", "one.csv")
    assert ts.read_csv(only, "", "when").column == "level"  # the only non-date column


def test_the_bundled_co2_record_states_source_and_licence():
    path = ts.resolve_csv_path("bundled:co2-monthly.csv")
    header = path.read_text().split("\nmonth,co2\n")[0]
    assert "Source:" in header and "Licence: public domain" in header and "monthly" in header
    read = ts.read_csv(path, "co2", "month")
    assert len(read.values) == 444 and read.dates[0] == "1965-01" and read.dates[-1] == "2001-12"
    assert 315 < read.values.min() and read.values.max() < 375
    assert str(path).startswith(str(resources.files("tui_lab")))


@pytest.mark.parametrize(
    "text, column, message",
    [
        ("t,v\n1,2\n2,\n", "v", "{p} line 3: missing value in column 'v'"),
        ("t,v\n1,2\n2\n", "v", "{p} line 3: missing value in column 'v'"),
        ("t,v\n1,2\n# c\n2,abc\n", "v", "{p} line 4: column 'v': 'abc' is not a number"),
        ("t,v\n1,nan\n", "v", "{p} line 2: column 'v': 'nan' is not a finite number"),
        (
            "t,value\n1,2\n",
            "valeu",
            "data.column: no column 'valeu' in {p} (did you mean 'value'?); columns: t, value",
        ),
        (
            "t,a,b\n1,2,3\n",
            "",
            "data.column: {p} has several columns (t, a, b); name the one to forecast",
        ),
        ("", "v", "data.csv: {p} is empty"),
    ],
)
def test_bad_cells_and_columns_name_the_line_or_column(tmp_path, text, column, message):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as error:
        ts.read_csv(path, column)
    assert message.format(p=path) in str(error.value)


def test_missing_file_and_unknown_date_column(tmp_path):
    with pytest.raises(ScenarioError, match="data.csv: no such file"):
        ts.read_csv(tmp_path / "nope.csv", "v")
    path = write(tmp_path, "t,v\n1,2\n")
    with pytest.raises(
        ScenarioError, match=r"data.date_column: no column 'day' in .*; columns: t, v"
    ):
        ts.read_csv(path, "v", "day")


def csv_run(tmp_path, capsys, text, *extra):
    path = write(tmp_path, text)
    args = ["run", "forecast-co2", "--quiet", "--set", f"data.csv={path}"]
    args += ["--set", "data.column=v", "--set", "data.date_column=t"]
    for item in extra:
        args += ["--set", item]
    code = cli.main(args)
    return code, capsys.readouterr().err, path


def test_bad_csv_files_exit_2_with_the_line_or_column(tmp_path, capsys):
    rows = "".join(f"{k},{k % 7}\n" for k in range(100))
    code, err, path = csv_run(tmp_path, capsys, "t,v\n" + rows + "100,\n")
    assert code == 2 and f"data.csv: {path} line 102: missing value in column 'v'" in err
    assert "Traceback" not in err
    code, err, path = csv_run(tmp_path, capsys, "t,v\n" + rows + "100,n/a\n")
    assert code == 2 and f"{path} line 102: column 'v': 'n/a' is not a number" in err
    code, err, path = csv_run(tmp_path, capsys, "t,w\n" + rows)
    assert code == 2 and f"data.column: no column 'v' in {path}; columns: t, w" in err
    code, err, path = csv_run(tmp_path, capsys, "t,v\n" + "".join(rows.splitlines(True)[:40]))
    assert code == 2
    assert f"data.csv: {path}: 40 rows are too few for one window: lookback 24 + horizon 12" in err
    assert "need at least 77 rows" in err


def test_a_good_csv_given_on_the_command_line_is_relative_to_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "t,v\n" + "".join(f"{k},{np.sin(k / 2):.4f}\n" for k in range(120)), "s.csv")
    loaded = registry.resolve("forecast-co2").with_overrides(
        [
            "data.csv=s.csv",
            "data.column=v",
            "data.date_column=t",
            "data.horizon=3",
            "data.lookback=8",
        ]
    )
    lab = build_lab(loaded)
    assert len(lab.values) == 120 and lab.label == "s.csv:v"
