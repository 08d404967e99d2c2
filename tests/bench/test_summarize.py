import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import summarize  # noqa: E402
from summary_rows import BenchResult, Row, load_range, read_results, write_result  # noqa: E402


def _result(bench: str, ratio: str) -> BenchResult:
    row = Row(what=f"{bench} figure", herd="10", peer="peer: 5", ratio=ratio, load=load_range([1.5, 3.25]),
              page="benchmarks/x.md", goal=">= 1.5x: met")
    return BenchResult(bench=bench, command=f"python bench/{bench}.py", machine="2 x test cores", rows=[row])


def test_results_round_trip_and_render_into_the_page(tmp_path):
    write_result(_result("b_bench", "2.00x"), tmp_path)
    write_result(_result("a_bench", "1.5|2"), tmp_path)
    results = read_results(tmp_path)
    assert [r.bench for r in results] == ["a_bench", "b_bench"]  # file order, stable
    table = summarize.render(results)
    lines = table.splitlines()
    # a "|" inside a cell is escaped so the row keeps its columns
    assert lines[2].startswith("| a_bench figure | 10 | peer: 5 | 1.5\\|2 | 1.5-3.2 | >= 1.5x: met | "
                               "[x](benchmarks/x.md)")
    page = f"intro\n{summarize.BEGIN}\nold table\n{summarize.END}\noutro\n"
    spliced = summarize.splice(page, table)
    assert spliced.startswith("intro\n") and spliced.endswith("\noutro\n") and "old table" not in spliced
    assert summarize.splice(spliced, table) == spliced  # what --check compares


def test_a_page_without_markers_and_a_foreign_result_file_are_named(tmp_path):
    with pytest.raises(SystemExit, match="markers"):
        summarize.splice("no markers here", "table")
    (tmp_path / "broken.json").write_text('{"bench": "x"}')
    with pytest.raises(SystemExit, match="broken.json"):
        read_results(tmp_path)
