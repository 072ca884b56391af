"""Each committed benchmark table is what its report script makes of the committed rows now, so a
table cannot keep numbers its rows (or the rows it quotes from another benchmark) no longer hold."""

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize("folder", ["clad", "outlier_exposure"])
def test_the_committed_table_is_its_report_of_the_committed_rows(folder):
  out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / folder / "report.py")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
  assert out.returncode == 0, out.stderr[-2000:]
  assert out.stdout == (ROOT / "benchmarks" / folder / "table.md").read_text(), (
      f"benchmarks/{folder}/table.md is stale: python benchmarks/{folder}/report.py > benchmarks/{folder}/table.md")
