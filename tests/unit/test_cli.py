"""The command line's pure commands: `correct` (one case, many cases, bad cases) and result formatting."""

import io
import json

import pytest

from flows.cli import main, write_result


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_correct_one_case_reproduces_the_published_example(capsys):
    # API MPMS 11.1-2004 §11.1.7.2 example A5: jet, 817.59 kg/m³ at 22.25 °C and 2587.3 kPa
    rc, out, _ = run(capsys, "correct", "--product-group", "jet", "--density-kgm3", "817.59", "--temp-c", "22.25",
                     "--pressure-kpa", "2587.3", "--exact-inputs")
    res = json.loads(out)
    assert rc == 0
    assert (res["density_15c_kgm3"], res["ctl"], res["cpl"], res["ctpl"]) == (821.1, 0.99359, 1.00215, 0.99573)
    assert "11.1-2004" in res["edition"]


def test_correct_many_cases_with_a_bad_one_never_fails_the_batch(capsys, monkeypatch):
    cases = "\n".join([
        json.dumps({"product_group": "crude", "density_kgm3": 823.7, "density_basis": "observed", "temp_c": 26.8,
                    "pressure_kpa": 0}),
        "not json",
        json.dumps({"product_group": "crude", "density_kgm3": 470.27, "density_basis": "observed",
                    "temp_c": -50.05}),
        json.dumps({"product_group": "kerosene?", "density_kgm3": 800, "temp_c": 15}),
    ])
    rc, out, _ = run(capsys, "correct", "--input", "-", "--exact-inputs", stdin=cases, monkeypatch=monkeypatch)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and len(rows) == 4
    # A2 of §11.1.7.2: ρ15 = 832.434018321149 → 832.4; CTL 0.989507855128 → 0.98951
    assert rows[0]["density_15c_kgm3"] == 832.4 and rows[0]["ctl"] == 0.98951 and "error" not in rows[0]
    assert all("error" in r for r in rows[1:])


def test_correct_without_inputs_is_a_usage_error(capsys):
    rc, _, err = run(capsys, "correct", "--product-group", "jet")
    assert rc == 2 and "give --product-group" in err


@pytest.mark.parametrize("fmt, expected", [
    ("json", '{"a": 1, "t": "2026-03-01T06:00:00Z"}\n'),
    ("csv", "a,t\r\n1,2026-03-01T06:00:00Z\r\n"),
    ("table", "a  t\n-  --------------------\n1  2026-03-01T06:00:00Z\n"),
])
def test_result_formats(fmt, expected):
    from datetime import datetime

    out = io.StringIO()
    write_result(out, ["a", "t"], [(1, datetime(2026, 3, 1, 6))], fmt)
    assert out.getvalue() == expected
