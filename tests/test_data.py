import gzip
import warnings

import numpy as np
import pytest
import scipy.io

from conftest import need_shared
from stoc_jax.data import split as split_lib
from stoc_jax.data import DataError, table_file, tabular


# ------------------------------------------------------------ shared files

def test_thyroid_shared_file():
  path = need_shared("tabular/thyroid.npz")
  x, y = tabular.load_thyroid(path.parent)
  assert x.shape == (3772, 6) and y.sum() == 93 and x.dtype == np.float32


def test_arrhythmia_shared_file():
  path = need_shared("tabular/arrhythmia.mat")
  x, y = tabular.load_arrhythmia(path.parent)
  assert x.shape == (452, 274) and y.sum() == 66


@pytest.mark.slow
def test_kdd_and_kddrev_shared_file():
  path = need_shared("tabular/kddcup.data_10_percent.gz")
  x, y = tabular.load_kdd(path.parent)
  assert x.shape[0] == 494021 and y.sum() == 97278  # `normal.` rows are the anomalies
  assert x.min() >= 0.0 and x.max() <= 1.0  # one-hot and min-max scaled
  xr, yr = tabular.load_kdd(path.parent, reverse=True, seed=0)
  assert (yr == 0).sum() == 97278 and yr.sum() == int(0.2 * 97278)


# ------------------------------------------------------------ small files written here

def test_odds_mat_and_npz(tmp_path):
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(30, 3)), (np.arange(30) < 4).astype(float)[:, None]
  scipy.io.savemat(tmp_path / "arrhythmia.mat", {"X": x, "y": y})
  scipy.io.savemat(tmp_path / "thyroid.mat", {"X": x, "y": y})
  xa, ya = tabular.load_arrhythmia(tmp_path)
  xt, yt = tabular.load_thyroid(tmp_path)  # falls back to the ODDS .mat
  np.testing.assert_allclose(xa, x, rtol=1e-6)
  assert ya.tolist() == y.ravel().astype(int).tolist() == yt.tolist()
  np.savez(tmp_path / "thyroid.npz", X=x, y=y.ravel())
  assert tabular.load_thyroid(tmp_path)[0].shape == (30, 3)


def _kdd_line(label, proto="tcp", service="http", duration=0):
  nums = [str(duration)] + [proto, service, "SF"] + ["1"] * 37 + [label]
  return ",".join(nums)


def test_kdd_gz_one_hot_and_labels(tmp_path):
  lines = [_kdd_line("normal.", duration=d) for d in range(6)]
  lines += [_kdd_line("smurf.", "icmp", "ecr_i", 10 + d) for d in range(20)]
  with gzip.open(tmp_path / "kddcup.data_10_percent.gz", "wt") as f:
    f.write("\n".join(lines) + "\n")
  x, y = tabular.load_kdd(tmp_path)
  assert y.tolist() == [1] * 6 + [0] * 20  # normal traffic is the anomaly class
  # 38 numeric columns + one-hot: 2 protocols, 2 services, 1 flag
  assert x.shape == (26, 38 + 2 + 2 + 1)
  assert x[:, 0].min() == 0.0 and x[:, 0].max() == 1.0
  xr, yr = tabular.load_kdd(tmp_path, reverse=True, attack_fraction=0.5)
  assert (yr == 0).sum() == 6 and yr.sum() == 3
  _, yr = tabular.load_tabular("kddrev", tmp_path, kddrev_attack_fraction=2.0)
  assert yr.sum() == 12  # load_tabular passes the configs' kddrev_attack_fraction on
  for fraction in (0.0, 4.0):  # 4 x 6 = 24 attacks asked, 20 in the file
    with pytest.raises(DataError, match=r"attack_fraction.*\(0, 3.33\]"):
      tabular.load_kdd(tmp_path, reverse=True, attack_fraction=fraction)


def test_missing_file_names_path_and_source(tmp_path):
  with pytest.raises(DataError) as e:
    tabular.load_thyroid(tmp_path)
  assert str(tmp_path / "thyroid.npz") in str(e.value) and "odds" in str(e.value).lower()
  with pytest.raises(DataError, match="kddcup.data_10_percent.gz.*uci"):
    tabular.load_kdd(tmp_path)


def test_unknown_dataset():
  with pytest.raises(DataError, match="unknown dataset 'mnist'.*thyroid"):
    tabular.load_tabular("mnist")


def test_breast_cancer_is_embedded():
  x, y = tabular.load_breast_cancer()
  assert x.shape == (569, 30) and y.sum() == 212


def test_csv_with_label_and_categorical(tmp_path):
  p = tmp_path / "t.csv"
  p.write_text("a,b,color,label\n1,2,red,0\n2,3,blue,0\n3,1,red,1\n4,5,green,0\n")
  x, y, schema = table_file.load_table(p, label_column="label")
  assert y.tolist() == [0, 0, 1, 0]
  assert x.shape == (4, 5) and "color_red" in schema.features


def test_new_rows_are_encoded_as_the_fitted_table(tmp_path):
  p = tmp_path / "t.csv"
  p.write_text("a,b,color,label\n1,2,red,0\n2,3,blue,0\n3,1,red,1\n4,5,green,0\n")
  x, _, schema = table_file.load_table(p, label_column="label")
  # Other column order, no label, a colour never seen, one row: encoded by the schema.
  new = tmp_path / "new.csv"
  new.write_text("color,b,a\nblue,3,2\nviolet,0,1\n")
  with pytest.warns(UserWarning, match="never saw: \\['violet'\\]"):
    x_new, y_new, same = table_file.load_table(new, schema=schema)
  assert same is schema and y_new is None
  np.testing.assert_array_equal(x_new[0], x[1])  # the same row as the fitted table's second
  assert x_new[1, list(schema.features).index("a")] == 1 and x_new[1, 2:].sum() == 0
  one = tmp_path / "one.csv"
  one.write_text("a,b,color\n9,9,red\n")
  assert table_file.load_table(one, schema=schema)[0].shape == (1, 5)
  lacking = tmp_path / "lacking.csv"
  lacking.write_text("a,color\n1,red\n")
  with pytest.raises(DataError, match=r"columns this table lacks: \['b'\]\.$"):
    table_file.load_table(lacking, schema=schema)
  # A column renamed in case or separators, as a spreadsheet export does, is named beside the one it stands for.
  renamed = tmp_path / "renamed.csv"
  renamed.write_text("A,b_,Color\n1,2,red\n")
  with pytest.raises(DataError, match=r"lacks: \['a', 'b', 'color'\]; this table has 'A' for 'a', 'b_' for 'b', "
                     r"'Color' for 'color': rename them as fitted\.$"):
    table_file.load_table(renamed, schema=schema)
  texty = tmp_path / "texty.csv"
  texty.write_text("a,b,color\nx,1,red\n")
  with pytest.raises(DataError, match=r"\['a'\] hold text"):
    table_file.load_table(texty, schema=schema)


def test_npz_with_labels(tmp_path):
  rng = np.random.default_rng(0)
  np.savez(tmp_path / "t.npz", X=rng.normal(size=(8, 3)), y=np.array([0, 1] * 4))
  x, y, schema = table_file.load_table(tmp_path / "t.npz")
  assert x.shape == (8, 3) and y.tolist() == [0, 1] * 4 and schema.features == ("x0", "x1", "x2")
  np.save(tmp_path / "wide.npy", rng.normal(size=(2, 4)))
  with pytest.raises(DataError, match="4 feature columns, but the model was fitted on 3"):
    table_file.load_table(tmp_path / "wide.npy", schema=schema)


def test_npy_table(tmp_path):
  arr = np.random.default_rng(0).normal(size=(10, 3))
  arr[:, 2] = np.arange(10) % 2
  np.save(tmp_path / "t.npy", arr)
  x, y, _ = table_file.load_table(tmp_path / "t.npy", label_column=2)
  assert x.shape == (10, 2) and y.sum() == 5


def test_a_folder_or_an_unreadable_file_given_as_a_table_is_named(tmp_path):
  """A folder failed as "is not a readable  file: [Errno 21] Is a directory"."""
  with pytest.raises(DataError, match=r"is a folder; give a table file \(CSV, \.npy or \.npz\), or --images "):
    table_file.load_table(tmp_path)
  # A file without a suffix that cannot be read (the tests run as root, which reads any file).
  assert str(table_file._unreadable("locked", PermissionError("denied"))) == "locked is not a readable file: denied"


def test_numpy_files_that_are_not_what_their_suffix_says_are_named_in_one_line(tmp_path):
  """NumPy's own words for a text file under .npy speak of pickles and allow_pickle (which would run code
  from the file); an archive under .npy, or one array under .npz, failed as a context manager or a key."""
  from stoc_jax.data.images import load_npz
  from stoc_jax.data.outlier_exposure import read_oe_array
  (tmp_path / "table.npy").write_text("a,b\n1,2\n3,4\n")
  np.savez(tmp_path / "archive.npz", X=np.zeros((3, 2)))
  (tmp_path / "archive.npz").rename(tmp_path / "archive.npy")
  np.save(tmp_path / "array.npy", np.zeros((4, 8, 8), np.uint8))
  (tmp_path / "array.npy").rename(tmp_path / "array.npz")
  np.savez(tmp_path / "objects.npz", X=np.array([{"a": 1}] * 3, dtype=object))
  np.save(tmp_path / "cut.npy", np.zeros((100, 3)))
  (tmp_path / "cut.npy").write_bytes((tmp_path / "cut.npy").read_bytes()[:200])
  cases = [(table_file.load_table, "table.npy", r"table\.npy is not a NumPy file: it holds text \(a CSV\? name it "
                                                r"\.csv\); write it with np\.save or np\.savez\.$"),
           (table_file.load_table, "archive.npy", r"archive\.npy is an \.npz archive of arrays \['X'\]; name it \.npz"),
           (table_file.load_table, "array.npz", r"array\.npz is one array \(an \.npy file\); name it \.npy"),
           (table_file.load_table, "objects.npz", r"objects\.npz holds object arrays, which are not read"),
           (table_file.load_table, "cut.npy", r"cut\.npy is not a NumPy file, or is cut short"),
           (load_npz, "array.npz", r"array\.npz is one array \(an \.npy file\); give an \.npz of x_train"),
           (load_npz, "table.npy", r"table\.npy is not a NumPy file: it holds text"),
           (read_oe_array, "objects.npz", r"objects\.npz holds object arrays")]
  for read, name, match in cases:
    with pytest.raises(DataError, match=match):
      read(tmp_path / name)
  assert read_oe_array(tmp_path / "array.npz").shape == (4, 8, 8, 1)  # one array is the OE images, whatever its suffix


@pytest.mark.parametrize("content,match", [
    ("", "empty"),
    ("a,b\n", "no data rows"),
    ("a,b\n1,\n2,3\n", r"missing values in 1 rows \(first data rows: \[1\]\)"),
    ("a,b\n1,2\n", "1 row"),
    ("a,b\n1,2\n1,3\n1,5\n", r"constant columns.*\['a'\]"),
    ("a,label\n1,0\n2,7\n", "only 0"),
    ("a,label\n1,no\n2,maybe\n", r"0 \(normal\) / 1 \(anomaly\), yes / no, the words normal/anomaly/.*or two words "
     r"one of which names the normal rows \(benign/.*\); found text \['maybe', 'no'\]: map it to 0 and 1"),
    # Yes / no answers "an anomaly?" as True / False do, unless the column is named for the normal rows.
    ("a,is_normal\n1,no\n2,yes\n", r"label column 'is_normal' holds \['no', 'yes'\] and is named for the normal "
     r"rows \('normal'\): map it to 1 for the anomalies"),
    ("a,is_normal\n1,False\n2,True\n", r"label column 'is_normal' holds \['false', 'true'\] and is named"),
    ("a,label\n1,benign\n2,normal\n3,attack\n", r"found text \['attack', 'benign', 'normal'\]"),  # which is which?
    ("a,label\n1,1\n2,-1\n", r"found \[-1.0\] \(scikit-learn's -1 = outlier, 1 = inlier\? then write 1 for -1"),
    ("a,label\n1,0\n2,\n3,1\n4,\n", r"label column 'label' is missing in 2 rows \(first data rows: \[2, 4\]\).*drop"),
    ("a,label\n1,normal\n2,\n3,anomaly\n", r"label column 'label' is missing in 1 rows"),
])
def test_bad_tables_give_clear_errors(tmp_path, content, match):
  p = tmp_path / "bad.csv"
  p.write_text(content)
  with pytest.raises(DataError, match=match):
    label = next((c for c in ("label", "is_normal") if c in content), None)
    table_file.load_table(p, label_column=label)


def test_labels_written_as_normal_and_anomaly_words_are_read(tmp_path):
  p = tmp_path / "t.csv"
  p.write_text("a,b,label\n" + "".join(f"{i % 7},{i % 3},{'Anomaly' if i % 5 == 0 else 'normal'}\n" for i in range(20)))
  _, y, schema = table_file.load_table(p, label_column="label")
  np.testing.assert_array_equal(y, (np.arange(20) % 5 == 0).astype(int))
  assert schema.features == ("a", "b")
  p.write_text("a,label\n1,inlier\n2,outlier\n3,inlier\n")
  np.testing.assert_array_equal(table_file.load_table(p, label_column="label")[1], [0, 1, 0])
  # Two words, one of which names the normal rows: the other is the anomaly.
  for normal, anomaly in (("Benign", "Malignant"), ("normal", "attack"), ("good", "defect"), ("legit", "fraud")):
    p.write_text(f"a,label\n1,{normal}\n2,{anomaly}\n3,{normal}\n")
    np.testing.assert_array_equal(table_file.load_table(p, label_column="label")[1], [0, 1, 0])
  # Answers to "an anomaly?", read as a boolean column's True / False are.
  for no, yes in (("no", "yes"), ("N", "Y"), ("false", "TRUE")):
    p.write_text(f"a,fraud\n1,{no}\n2,{yes}\n3,{no}\n")
    np.testing.assert_array_equal(table_file.load_table(p, label_column="fraud")[1], [0, 1, 0])


@pytest.mark.parametrize("name, reader", [("sales.xlsx", "read_excel"), ("sales.parquet", "read_parquet"),
                                          ("sales.JSON", "read_json")])
def test_spreadsheets_and_other_table_formats_are_refused_with_the_conversion(tmp_path, name, reader):
  p = tmp_path / name
  p.write_bytes(b"PK\x03\x04 not text")
  with pytest.raises(DataError, match=rf"only CSV, .npy and .npz.*pd\.{reader}\('.*{name}'\)"
                                              rf"\.to_csv\('.*sales\.csv', index=False\)"):
    table_file.load_table(p)


def test_constant_columns_can_be_dropped(tmp_path):
  p = tmp_path / "c.csv"
  p.write_text("a,b\n1,2\n1,3\n1,5\n")
  x, _, schema = table_file.load_table(p, drop_constant=True)
  assert schema.features == ("b",) and x.shape == (3, 1)


def test_a_totals_row_is_refused_because_it_hides_the_records_anomalies(tmp_path):
  """What the refusal is for: STOCDetector's two planted anomalies rank first and second among 300
  rows, and a totals row below them pushes them down to fourth and sixth."""
  import pandas as pd
  from stoc_jax import STOCDetector
  rng = np.random.default_rng(2)
  df = pd.DataFrame({"sales": rng.normal(100, 10, 300).round(1), "returns": rng.poisson(2, 300),
                     "cost": rng.normal(50, 5, 300).round(1)})
  df.loc[10, "sales"], df.loc[20, "cost"] = 150.0, 75.0
  with_total = pd.concat([df, pd.DataFrame([df.sum()])], ignore_index=True)

  def places(frame):
    order = np.argsort(-STOCDetector().fit(frame).decision_scores_)
    return sorted(int(np.flatnonzero(order == row)[0]) + 1 for row in (10, 20))
  assert places(df) == [1, 2] and places(with_total) == [4, 6]
  with_total.to_csv(tmp_path / "t.csv", index=False)
  with pytest.raises(DataError, match=r"last data row \(row 301\) holds the sums .* \['sales', 'returns', 'cost'\]"):
    table_file.load_table(tmp_path / "t.csv")
  df.to_csv(tmp_path / "records.csv", index=False)
  assert table_file.load_table(tmp_path / "records.csv")[0].shape == (300, 3)


def test_a_column_dropped_as_constant_may_be_absent_later_and_its_new_values_are_warned_of(tmp_path):
  fitted = tmp_path / "fitted.csv"
  fitted.write_text("a,b,site\n" + "".join(f"1.5,{i % 7},x\n" for i in range(20)))
  x, _, schema = table_file.load_table(fitted, drop_constant=True)
  # The text column of one value is left to the unseen-value warning; the numeric one is kept.
  assert schema.features == ("b",) and schema.constant == (("a", 1.5),)
  same = tmp_path / "same.csv"
  same.write_text("a,b,site\n1.5,3,x\n1.5,4,x\n")
  without = tmp_path / "without.csv"
  without.write_text("b,site\n3,x\n4,x\n")
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # the same constant, or no such column: nothing to say
    assert table_file.load_table(same, schema=schema)[0].tolist() == [[3.0], [4.0]]
    assert table_file.load_table(without, schema=schema)[0].tolist() == [[3.0], [4.0]]
  other = tmp_path / "other.csv"
  other.write_text("a,b,site\n1.5,3,x\n9,4,x\n-2,5,x\n")
  with pytest.warns(UserWarning, match=r"constant when the model was fitted, and so are not scored, hold other "
                                       r"values here: 'a' \(1.5 when fitted; 2 rows here, e\.g\. 9 in row 2\)"):
    assert table_file.load_table(other, schema=schema)[0].tolist() == [[3.0], [4.0], [5.0]]
  # The same for arrays, by position.
  np.save(tmp_path / "fitted.npy", np.c_[np.full(20, 2.0), np.arange(20.0)])
  _, _, array_schema = table_file.load_table(tmp_path / "fitted.npy", drop_constant=True)
  np.save(tmp_path / "new.npy", np.array([[2.0, 1.0], [3.0, 2.0]]))
  with pytest.warns(UserWarning, match=r"'x0' \(2 when fitted; 1 row here, e\.g\. 3 in row 2\)"):
    assert table_file.load_table(tmp_path / "new.npy", schema=array_schema)[0].tolist() == [[1.0], [2.0]]


# ------------------------------------------------------------ the contamination split

@pytest.mark.parametrize("ratio", [0.0, 0.01, 0.025])
def test_split_counts(ratio):
  y = np.r_[np.zeros(1000, int), np.ones(100, int)]
  x = np.arange(1100, dtype=float)[:, None]
  s = split_lib.contamination_split(x, y, ratio, seed=0, max_anomaly_ratio=0.05)
  n_anom = split_lib.anomalies_for_ratio(500, ratio)
  assert (s.y_train == 0).sum() == 500 and s.y_train.sum() == n_anom
  assert s.y_train.mean() == pytest.approx(ratio, abs=1e-3)
  # the pool for 5 % (26 anomalies) is held out at every ratio: test set fixed
  assert (s.y_test == 0).sum() == 500 and s.y_test.sum() == 100 - split_lib.anomalies_for_ratio(500, 0.05)
  assert not set(s.x_train.ravel()) & set(s.x_test.ravel())  # disjoint


def test_split_test_set_same_across_ratios_and_seeded():
  y = np.r_[np.zeros(300, int), np.ones(40, int)]
  x = np.arange(340, dtype=float)[:, None]
  a = split_lib.contamination_split(x, y, 0.0, seed=1)
  b = split_lib.contamination_split(x, y, 0.05, seed=1)
  c = split_lib.contamination_split(x, y, 0.05, seed=2)
  assert sorted(a.x_test.ravel()) == sorted(b.x_test.ravel())
  assert sorted(b.x_train.ravel()) != sorted(c.x_train.ravel())


def test_split_errors():
  y = np.r_[np.zeros(100, int), np.ones(5, int)]
  x = np.zeros((105, 1))
  with pytest.raises(ValueError, match="leaving none to test"):
    split_lib.contamination_split(x, y, 0.1, seed=0)
  with pytest.raises(ValueError, match=r"\[0, 1\)"):
    split_lib.contamination_split(x, y, 1.2, seed=0)


def test_standardize_by_training_set_optionally_keeps_binary_columns():
  from stoc_jax.column_scaling import standardize
  rng = np.random.default_rng(0)
  x_train = np.column_stack([rng.normal(5.0, 3.0, 200), rng.integers(0, 2, 200), np.full(200, 7.0)])
  x_test = np.array([[5.0, 1.0, 7.0]])
  z_train, z_test = standardize(x_train, x_test)
  np.testing.assert_allclose(z_train[:, :2].mean(0), 0.0, atol=1e-5)
  np.testing.assert_allclose(z_train[:, :2].std(0), 1.0, atol=1e-5)
  assert z_train[0, 2] == 0.0  # a constant column is centred, not divided by 0
  k_train, k_test = standardize(x_train, x_test, binary=False)
  np.testing.assert_array_equal(k_train[:, 1], x_train[:, 1])  # the 0/1 column as it was
  np.testing.assert_allclose(k_train[:, 0], z_train[:, 0], rtol=1e-6)
  assert k_test[0, 1] == 1.0 and z_test[0, 1] != 1.0


def test_robust_standardize_is_not_dragged_by_planted_anomalies():
  from stoc_jax.column_scaling import standardize
  rng = np.random.default_rng(0)
  normals = np.column_stack([rng.normal(5.0, 3.0, 2000), rng.normal(0.0, 0.01, 2000),
                             np.r_[np.zeros(1900), np.ones(100)] * 4.0, np.full(2000, 7.0)])
  anomalies = np.tile([5.0, 0.5, 0.0, 7.0], (30, 1))  # 1.5 %, far out in the narrow column
  dirty = np.concatenate([normals, anomalies])
  probe = np.array([[5.0, 0.02, 0.0, 7.0]])  # a normal-looking row two stds out in column 1
  clean_z, dirty_z = standardize(normals, probe)[1], standardize(dirty, probe)[1]
  clean_r, dirty_r = standardize(normals, probe, robust=True)[1], standardize(dirty, probe, robust=True)[1]
  # Mean and std: the 30 anomalies squeeze the narrow column ~6x; median and IQR hardly move.
  assert dirty_z[0, 1] < clean_z[0, 1] / 4
  assert abs(dirty_r[0, 1] - clean_r[0, 1]) < 0.1 * clean_r[0, 1]
  # A Gaussian column is scaled as by its std; IQR = 0 falls back to the std; constant stays finite.
  r_train = standardize(normals, robust=True)[0]
  assert abs(r_train[:, 0].std() - 1.0) < 0.05 and abs(np.median(r_train[:, 0])) < 1e-6
  np.testing.assert_allclose(r_train[:, 2].std(), 1.0, rtol=1e-5)
  assert np.all(r_train[:, 3] == 0.0)


def test_a_constant_float32_column_keeps_scale_one():
  from stoc_jax.column_scaling import standardize
  # np.full(1000, 3.7, float32).std() is 4.8e-7, not 0: dividing by it sent a test row's other
  # value in that column to ~1e6.
  x_train = np.column_stack([np.arange(1000.0), np.full(1000, 3.7)]).astype(np.float32)
  x_test = np.array([[5.0, 4.7]], np.float32)
  for robust in (False, True):
    train, test = standardize(x_train, x_test, robust=robust)
    assert np.all(train[:, 1] == 0.0) and test[0, 1] == pytest.approx(1.0)


def test_robust_scaling_warns_when_a_near_constant_column_explodes():
  from stoc_jax.column_scaling import scaling_statistics
  rng = np.random.default_rng(0)
  # Column 0 as KDD's: nearly constant (tiny IQR) with rare values far off. Column 1 skewed as
  # Thyroid's (a few hundred robust SDs at most), which must not warn.
  near_constant = np.r_[1.0 + 1e-6 * rng.normal(size=1990), np.full(10, 2.0)]
  skewed = np.r_[rng.normal(0.0, 1.0, 1990), np.full(10, 300.0)]
  x = np.column_stack([near_constant, skewed])
  with pytest.warns(UserWarning, match=r"1 column\(s\).*column 0: "):
    scaling_statistics(x, robust=True)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    scaling_statistics(x[:, 1:], robust=True)
    scaling_statistics(x, robust=False)  # z-scores: the std is not tiny


def test_deduplicate_train_keeps_one_copy_of_repeated_training_rows(tmp_path):
  from stoc_jax.configs import tabular_defaults
  from stoc_jax.tabular_stoc import load_split
  rng = np.random.default_rng(0)
  normals = rng.normal(size=(400, 3))
  # 30 copies of one anomaly, as KDD's smurf attacks: the single Gaussian weighs it 30 times.
  anomalies = np.vstack([np.repeat([[6.0, 6.0, 6.0]], 30, axis=0), rng.normal(6.0, 1.0, (30, 3))])
  table = np.column_stack([np.vstack([normals, anomalies]), np.r_[np.zeros(400), np.ones(60)]])
  np.savetxt(tmp_path / "t.csv", table, delimiter=",", header="a,b,c,label", comments="")
  c = tabular_defaults()
  c.dataset, c.data_path, c.label_column, c.anomaly_ratio = "csv", str(tmp_path / "t.csv"), "label", 0.05
  c.split.max_anomaly_ratio = 0.1  # every anomaly of the pool
  full = load_split(c)
  c.deduplicate_train = True
  dedup = load_split(c)
  assert len(np.unique(full.x_train, axis=0)) < len(full.x_train)  # the split drew repeated rows
  assert len(np.unique(dedup.x_train, axis=0)) == len(dedup.x_train)
  assert len(dedup.x_train) == len(np.unique(full.x_train, axis=0))
  assert dedup.y_train.sum() < full.y_train.sum() and (dedup.y_train == 0).sum() == (full.y_train == 0).sum()
  np.testing.assert_array_equal(dedup.y_test, full.y_test)  # the test set is left as it is


def test_a_text_column_of_many_categories_is_warned_of(tmp_path):
  """Each category becomes a column: 150 of them slow the fit and make rare categories anomalous."""
  rng = np.random.default_rng(0)
  rows = "".join(f"{rng.normal():.3f},m{i % 150},c{i % 20}\n" for i in range(400))
  (tmp_path / "t.csv").write_text("amount,merchant,city\n" + rows)
  with pytest.warns(UserWarning, match=r"text columns with many categories.*: 'merchant' \(150\)\. A fit") as caught:
    x, _, schema = table_file.load_table(tmp_path / "t.csv")
  assert x.shape == (400, 1 + 150 + 20) and not any("'city'" in str(w.message) for w in caught)


def test_a_schema_pickled_under_its_old_module_still_loads(tmp_path):
  """Model files saved by `stoc-jax detect --save-model` before the table reader had a module of its
  own name the schema's class as stoc_jax.data.tabular.TableSchema."""
  import pickle
  p = tmp_path / "t.csv"
  p.write_text("a,b\n" + "".join(f"{i % 5},{i % 3}.5\n" for i in range(20)))
  _, _, schema = table_file.load_table(p)
  raw = pickle.dumps(schema, protocol=0)  # text opcodes: the module name can be swapped in place
  old = raw.replace(b"stoc_jax.data.table_file\n", b"stoc_jax.data.tabular\n")
  assert old != raw
  assert pickle.loads(old) == schema


# Cells a hand-made or exported CSV may hold where a number is expected.
ODD_CELLS = ("", "NA", "?", "nan", "inf", "-inf", "1e309", "1e308", "abc", '"1,5"', "1,5", " 7 ", "TRUE", "false",
             "1 kg", "3.0%", "€4", "1.234,5", "#DIV/0!", "null", "2020-01-01", "12:30", "-", "1_000", "+5", ".5",
             "٣", "0x1F", "é")


def _generated_csv(rng) -> str:
  """A small CSV: a header of plausible names, columns mostly numbers or mostly odd cells, or flags
  (TRUE / FALSE, a few empty), and now and then a short or long row, a byte-order mark or Windows
  line ends."""
  width = int(rng.integers(1, 5))
  sep = str(rng.choice([",", ",", ";", "\t", "|"]))
  names = [str(rng.choice(["a", "b", "c", "id", "label", "x", "", "y", "date", "1"])) for _ in range(width)]
  numeric, flags = rng.random(width), rng.random(width) < 0.2

  def cell(j):
    if flags[j]:
      return str(rng.choice(["TRUE", "FALSE", "TRUE", "FALSE", ""]))
    return f"{rng.normal():.{rng.integers(0, 5)}f}" if rng.random() < numeric[j] else str(rng.choice(ODD_CELLS))
  lines = [sep.join(names)]
  for _ in range(int(rng.integers(0, 25))):
    row = [cell(j) for j in range(width)]
    if rng.random() < 0.03:
      row = row[:-1] if rng.random() < 0.5 else row + ["9"]
    lines.append(sep.join(row))
  text = "\n".join(lines) + "\n"
  return ("\ufeff" if rng.random() < 0.1 else "") + (text.replace("\n", "\r\n") if rng.random() < 0.1 else text)


def test_generated_csvs_load_as_finite_numbers_or_fail_with_a_data_error(tmp_path):
  """Whatever a CSV holds, load_table gives finite float64 rows or a DataError (the command line's
  one-line error), also with fill_missing and when a fitted table's schema reads it. Generated tables
  found a column of TRUE / FALSE with an empty cell (an AttributeError) and infinite values under
  fill_missing (scikit-learn's imputer's ValueError)."""
  rng = np.random.default_rng(0)
  path, fitted = tmp_path / "t.csv", tmp_path / "fitted.csv"
  loaded = 0
  warnings.simplefilter("ignore")  # what was filled, unseen categories: said, and not what is checked
  for case in range(400):
    text = _generated_csv(rng)
    path.write_text(text, encoding="utf-8")
    options = {"fill_missing": bool(rng.random() < 0.5), "drop_constant": bool(rng.random() < 0.5)}
    try:
      if rng.random() < 0.3:  # scored by a model fitted on clean rows of the same header
        header = text.lstrip("\ufeff").splitlines()[0]
        sep = next((c for c in ";\t|" if c in header), ",")
        fitted.write_text(header + "\n" + "".join(
            sep.join(f"{v:.3f}" for v in rng.normal(size=header.count(sep) + 1)) + "\n" for _ in range(20)))
        try:
          _, _, schema = table_file.load_table(fitted, fill_missing=options["fill_missing"], drop_constant=True)
        except DataError:
          continue
        x = table_file.load_table(path, schema=schema)[0]
      else:
        x = table_file.load_table(path, **options)[0]
    except DataError as e:
      assert str(e).startswith(str(path)), (case, text, e)  # each names the file it read
      continue
    loaded += 1
    assert x.dtype == np.float64 and x.ndim == 2 and np.isfinite(x).all(), (case, text)
  assert loaded > 30, loaded  # the generated tables are not all refused (58 of 400 load)
