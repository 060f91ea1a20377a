"""Bring your own data (issue 5): the diabetes data set, CSV input and its errors, standardization, split.

Numbers are checked against independent references: scikit-learn's LinearRegression for the fits, and
hand computations (numpy written out) for the z-scores and the map back to original units.
"""

from __future__ import annotations

import io
import math
import re
import tomllib

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import gdcore
from gdcore.csv_input import MAX_UPLOAD_BYTES

GOOD_CSV = b"size,rooms,age,price\n50,2,10,150.5\n80,3,5,240\n65,2,30,170.25\n120,4,1,380\n95,3,12,290\n"
GOOD_X = np.array([[50, 2, 10], [80, 3, 5], [65, 2, 30], [120, 4, 1], [95, 3, 12]], dtype=float)
GOOD_Y = np.array([150.5, 240, 170.25, 380, 290])


def raises(match: str):
    """pytest.raises(ValueError) matching `match` literally (messages contain brackets and dots)."""
    return pytest.raises(ValueError, match=re.escape(match))


# --------------------------------------------------------------------------------------------------
# diabetes


@pytest.fixture(scope="module")
def diabetes() -> gdcore.Dataset:
    return gdcore.load_dataset("diabetes")


def test_diabetes_is_the_raw_scikit_learn_data(diabetes):
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    np.testing.assert_array_equal(diabetes.X, bunch.data)
    np.testing.assert_array_equal(diabetes.y, bunch.target)
    assert diabetes.feature_names == tuple(bunch.feature_names)
    assert diabetes.X.shape == (442, 10) and diabetes.X.dtype == np.float64
    assert np.isnan(diabetes.coef).all() and diabetes.coef.shape == (10,)


def test_unknown_dataset_names_the_allowed_ones():
    with raises("unknown data set 'iris'; allowed: 'diabetes'"):
        gdcore.load_dataset("iris")
    assert gdcore.DATASET_NAMES == ("diabetes",)


def test_diabetes_standardized_gd_converges_to_linear_regression(diabetes):
    Z, scaler = gdcore.standardize(diabetes)
    theory = gdcore.analyze(Z.X, Z.y)
    assert theory.condition_number < 1e3 < gdcore.analyze(diabetes.X, diabetes.y).condition_number
    # rate(alpha_opt)^t < 1e-12 after t = log(1e-12) / log(rate) epochs; run twice that.
    epochs = 2 * math.ceil(math.log(1e-12) / math.log(theory.rate(theory.alpha_opt)))
    run = gdcore.descend(Z.X, Z.y, alpha=theory.alpha_opt, epochs=epochs, w0=0.0)
    assert run.stop_reason == "epochs" and not run.diverged

    on_z = LinearRegression().fit(Z.X, Z.y)
    np.testing.assert_allclose(run.weights[-1], on_z.coef_, rtol=1e-6)
    np.testing.assert_allclose(run.bias[-1], on_z.intercept_, rtol=1e-6)

    # Mapped back to original units, the same weights are the least-squares fit on the raw data.
    on_raw = LinearRegression().fit(diabetes.X, diabetes.y)
    w_orig, b_orig = scaler.to_original(run.weights[-1], run.bias[-1])
    np.testing.assert_allclose(w_orig, on_raw.coef_, rtol=1e-6)
    np.testing.assert_allclose(b_orig, on_raw.intercept_, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# CSV: good input


def test_csv_round_trip_from_path_bytes_and_file_likes(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_bytes(GOOD_CSV)
    text_file = path.open(encoding="utf-8", newline="")
    binary_file = path.open("rb")
    sources = {
        "path str": str(path),
        "pathlib": path,
        "bytes": GOOD_CSV,
        "BytesIO": io.BytesIO(GOOD_CSV),
        "StringIO": io.StringIO(GOOD_CSV.decode()),
        "text file": text_file,
        "binary file": binary_file,
    }
    try:
        for label, source in sources.items():
            data = gdcore.read_csv(source)
            np.testing.assert_array_equal(data.X, GOOD_X, err_msg=label)
            np.testing.assert_array_equal(data.y, GOOD_Y, err_msg=label)
            assert data.feature_names == ("size", "rooms", "age"), label
            assert data.target_name == "price", label
            assert data.X.dtype == np.float64 and data.X.flags.c_contiguous
    finally:
        text_file.close()
        binary_file.close()
    assert gdcore.read_csv(path).name == "houses.csv"


def test_csv_from_a_streamlit_upload():
    uploaded_file_manager = pytest.importorskip("streamlit.runtime.uploaded_file_manager")
    from streamlit.proto.Common_pb2 import FileURLs

    record = uploaded_file_manager.UploadedFileRec("id-1", "data/houses.csv", "text/csv", GOOD_CSV)
    upload = uploaded_file_manager.UploadedFile(record, FileURLs())
    assert gdcore.inspect_csv(upload).name == "houses.csv"
    data = gdcore.read_csv(upload)
    np.testing.assert_array_equal(data.X, GOOD_X)
    assert data.name == "houses.csv"


def test_csv_explicit_target_and_features():
    data = gdcore.read_csv(GOOD_CSV, target="size", features=["age", "price"])
    np.testing.assert_array_equal(data.X, np.column_stack([GOOD_X[:, 2], GOOD_Y]))
    np.testing.assert_array_equal(data.y, GOOD_X[:, 0])
    assert data.feature_names == ("age", "price") and data.target_name == "size"
    assert gdcore.read_csv(GOOD_CSV, features="rooms").feature_names == ("rooms",)


def test_same_upload_can_be_inspected_then_read():
    # Streamlit's UploadedFile is a BytesIO: reading must not leave it exhausted for the next call.
    upload = io.BytesIO(GOOD_CSV)
    preview = gdcore.inspect_csv(upload)
    data = gdcore.read_csv(upload, target=preview.default_target, features=preview.default_features)
    np.testing.assert_array_equal(data.y, GOOD_Y)
    assert upload.tell() == 0


def test_inspect_csv_describes_the_columns():
    csv = b"id,name,x1,x2,y\n1,ann,1.5,2,3\n2,bob,,4,5\n3,cy,2.5,inf,6\n4,di,3.5,8,7\n5,ed,4.5,1,9\n6,fay,1,3,2\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.columns == ("id", "name", "x1", "x2", "y")
    assert preview.numeric_columns == ("id", "x1", "x2", "y")
    assert preview.default_target == "y"
    assert preview.default_features == ("id", "x1", "x2")
    assert preview.n_rows == 6
    assert preview.nonfinite_rows == 2
    assert preview.nonfinite_counts == {"id": 0, "x1": 1, "x2": 1, "y": 0}
    assert preview.constant_columns == ()
    assert len(preview.head) == gdcore.csv_input.PREVIEW_ROWS
    assert list(preview.head.columns) == list(preview.columns)
    assert preview.head.iloc[0].tolist() == [1, "ann", 1.5, 2.0, 3]
    assert gdcore.inspect_csv(b"c,x,y\n1,2,3\n1,5,4\n").constant_columns == ("c",)


@pytest.mark.parametrize(
    ("csv", "delimiter"),
    [
        (b"a;b;y\n1;2;3\n2;1;5\n3;5;4\n", ";"),
        (b"a\tb\ty\n1\t2\t3\n2\t1\t5\n3\t5\t4\n", "\t"),
        (b"\xef\xbb\xbfa,b,y\r\n1,2,3\r\n2,1,5\r\n3,5,4\r\n", ","),  # UTF-8 BOM, Windows line ends
        (b"a, b, y\n1, 2, 3\n2, 1, 5\n3, 5, 4\n", ","),  # spaces after commas
    ],
)
def test_csv_dialects(csv, delimiter):
    assert gdcore.inspect_csv(csv).delimiter == delimiter
    data = gdcore.read_csv(csv)
    assert data.feature_names == ("a", "b") and data.target_name == "y"
    np.testing.assert_array_equal(data.X, [[1, 2], [2, 1], [3, 5]])
    np.testing.assert_array_equal(data.y, [3, 5, 4])


def test_html_in_column_names_stays_literal_text():
    names = ["<b>bold</b>", "<script>alert('x')</script>", "a & b"]
    csv = (",".join(names) + "\n1,2,3\n2,5,1\n3,4,8\n").encode()
    preview = gdcore.inspect_csv(csv)
    assert preview.columns == tuple(names)
    assert list(preview.head.columns) == names
    data = gdcore.read_csv(csv, target="<b>bold</b>")
    assert data.target_name == "<b>bold</b>"
    assert data.feature_names == ("<script>alert('x')</script>", "a & b")
    with raises("target column '<img src=x>' is not in the file"):
        gdcore.read_csv(csv, target="<img src=x>")


def test_cells_that_look_like_code_are_data_not_code():
    # Nothing is evaluated: an expression is just a non-numeric cell, a text column.
    csv = b"x,y,note\n1,2,__import__('os')\n2,4,=1+1\n3,7,@SUM(A1)\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.numeric_columns == ("x", "y")
    assert preview.head["note"].tolist() == ["__import__('os')", "=1+1", "@SUM(A1)"]
    with raises("target column 'note' is not numeric (data row 1 holds \"__import__('os')\""):
        gdcore.read_csv(csv, target="note")


def test_drop_nonfinite_drops_those_rows_and_says_so():
    csv = b"a,b,y\n1,2,3\n2,,5\n3,5,inf\n4,1,2\n5,3,3\n"
    data = gdcore.read_csv(csv, drop_nonfinite=True)
    np.testing.assert_array_equal(data.X, [[1, 2], [4, 1], [5, 3]])
    np.testing.assert_array_equal(data.y, [3, 2, 3])
    assert data.notes == ("dropped 2 of 5 rows with a NaN or inf cell in the chosen columns",)
    # Only the chosen columns count: b's empty cell does not matter when b is not used.
    assert gdcore.read_csv(csv, features=["a"], drop_nonfinite=True).n_samples == 4


def test_fifty_features_are_allowed():
    wide = _wide_csv(51)  # 50 features and the target
    assert gdcore.read_csv(wide).n_features == gdcore.validation.MAX_FEATURES == 50


# --------------------------------------------------------------------------------------------------
# CSV: one test per bad input, message checked


def test_empty_file():
    for empty in (b"", b"  \n\n", io.BytesIO(b""), io.StringIO("")):
        with raises("the file is empty; expected a UTF-8 text file with one header row of column names"):
            gdcore.read_csv(empty)


def test_binary_file_with_nul_bytes():
    xlsx_like = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
    with raises(
        "the file is not text: it contains NUL bytes (is it a spreadsheet such as .xlsx, or UTF-16?)"
    ):
        gdcore.inspect_csv(xlsx_like)
    with raises("the file is not text: it contains NUL bytes"):
        gdcore.read_csv("a,y\n1,2\n3,4\n".encode("utf-16"))


def test_text_that_is_not_utf8_is_read_as_windows_1252_and_says_so():
    latin1 = "size,café\n1,2\n3,4\n".encode("latin-1")
    data = gdcore.read_csv(latin1)
    assert (data.feature_names, data.target_name) == (("size",), "café")
    preview = gdcore.inspect_csv(io.BytesIO(latin1))
    assert preview.format_note.startswith("Windows-1252 (not UTF-8)")


@pytest.mark.parametrize(
    ("csv", "detail"),
    [
        (b"a,y\n1,2\n3,4,5\n", "Expected 2 fields in line 3, saw 3"),
        (b"a,y\n1,2,3\n3,4\n", "Expected 2 fields in line 2, saw 3"),  # pandas would make an index of it
        (b'a,y\n"1,2\n3,4\n', "EOF inside string"),
    ],
)
def test_not_parseable_as_csv(csv, detail):
    with raises("the file could not be parsed as CSV (") as info:
        gdcore.read_csv(csv)
    assert detail in str(info.value)
    assert "with the same number of fields on every row and quotes closed" in str(info.value)


def test_no_numeric_columns():
    with raises(
        "no column of the file is numeric (columns: 'name', 'city'); gradient descent needs numbers: "
        "a numeric target column and at least one numeric feature column"
    ):
        gdcore.read_csv(b"name,city\nann,oslo\nbob,rome\n")


def test_target_missing():
    with raises(
        "target column 'cost' is not in the file; the numeric columns are: 'size', 'rooms', 'age', 'price'"
    ):
        gdcore.read_csv(GOOD_CSV, target="cost")


def test_target_not_numeric():
    csv = b"x,label,y\n1,low,2\n2,high,3\n"
    with raises(
        "target column 'label' is not numeric (data row 1 holds 'low'; numbers use '.' as decimal point); "
        "choose one of the numeric columns: 'x', 'y'"
    ):
        gdcore.read_csv(csv, target="label")
    with raises("feature column 'label' is not numeric"):
        gdcore.read_csv(csv, features=["label"])
    with raises("feature column 'z' is not in the file"):
        gdcore.read_csv(csv, features=["x", "z"])


def test_fewer_than_two_rows():
    with raises("the file has 1 data row(s) below the header; at least 2 rows of numbers are needed"):
        gdcore.read_csv(b"x,y\n1,2\n")
    with raises("the file has 0 data row(s) below the header"):
        gdcore.inspect_csv(b"x,y\n")
    with raises("after dropping 2 rows with NaN or inf, 1 row(s) are left; at least 2 rows"):
        gdcore.read_csv(b"x,y\n1,2\n,3\n3,nan\n", drop_nonfinite=True)


def test_nan_or_inf_cells():
    csv = b"a,b,y\n1,2,3\n2,,5\n3,5,inf\n4,1,2\n5,NA,-inf\n"
    with raises(
        "3 of 5 rows have a NaN or inf cell (empty, NA, NaN or inf) in the chosen columns "
        "(cells per column: 'b': 2, 'y': 2; first at data row 2); every cell used must be a finite "
        "number; pass drop_nonfinite=True to drop those rows, or fill the cells in"
    ):
        gdcore.read_csv(csv)


def test_constant_feature_is_named():
    csv = b"a,const,y\n1,7,3\n2,7,5\n3,7,4\n"
    with raises(
        "feature column 'const' (every row is 7) is constant: a constant feature cannot help predict "
        "the target and leaves the least-squares optimum not unique; leave it out of features"
    ):
        gdcore.read_csv(csv)
    assert gdcore.read_csv(csv, features=["a"]).n_features == 1


def test_more_than_fifty_features():
    wide = _wide_csv(52)  # 51 features by default
    with raises(
        "51 feature columns were chosen; at most 50 are allowed; every numeric column but the target is a "
        "feature by default; pass features=[...] with 50 or fewer column names"
    ):
        gdcore.read_csv(wide)
    assert gdcore.read_csv(wide, features=[f"x{i}" for i in range(50)]).n_features == 50


def test_duplicate_column_names():
    with raises("column names must be unique: 'x' is the name of columns 1 and 3; rename the columns"):
        gdcore.inspect_csv(b"x,y,x\n1,2,3\n4,5,6\n")


def test_file_over_the_upload_limit(tmp_path, repo_root):
    assert gdcore.MAX_UPLOAD_MB == 50
    config = tomllib.loads((repo_root / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == gdcore.MAX_UPLOAD_MB
    message = "the file is too large: files up to 50 MB (52,428,800 bytes) are allowed"
    big = tmp_path / "big.csv"
    with big.open("wb") as f:  # a sparse file: its size is checked before anything is read
        f.truncate(MAX_UPLOAD_BYTES + 1)
    with raises(message + "; this one is 52,428,801 bytes (50.00 MB)"):
        gdcore.read_csv(big)
    too_big = b"x" * (MAX_UPLOAD_BYTES + 1)
    with raises(message):
        gdcore.read_csv(too_big)
    with raises(message):
        gdcore.inspect_csv(io.BytesIO(too_big))


def test_bad_source_types():
    with raises("source must be a path, bytes, or a file-like object with read(); got int"):
        gdcore.read_csv(12)
    with raises("cannot read the CSV file"):
        gdcore.read_csv("/no/such/file.csv")


def test_feature_choice_errors():
    with raises("'price' is the target column and cannot also be a feature"):
        gdcore.read_csv(GOOD_CSV, features=["size", "price"])
    with raises("at least one feature column is needed"):
        gdcore.read_csv(GOOD_CSV, features=[])
    with raises("each feature column may be chosen once; repeated: 'size'"):
        gdcore.read_csv(GOOD_CSV, features=["size", "size"])
    with raises("the file has only one numeric column ('y'), the target"):
        gdcore.read_csv(b"y\n1\n2\n")


def _wide_csv(n_columns: int) -> bytes:
    rng = np.random.default_rng(0)
    header = ",".join(f"x{i}" for i in range(n_columns - 1)) + ",y"
    rows = "\n".join(",".join(f"{v:.4f}" for v in row) for row in rng.normal(size=(60, n_columns)))
    return f"{header}\n{rows}\n".encode()


# --------------------------------------------------------------------------------------------------
# standardize and the map back to original units

HAND_X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
HAND_Y = np.array([1.0, 2.0, 4.0])


def _hand_dataset() -> gdcore.Dataset:
    return gdcore.Dataset(
        X=HAND_X, y=HAND_Y, coef=np.array([2.0, 0.5]), feature_names=("a", "b"), name="hand", intercept=1.0
    )


def test_standardize_against_a_hand_computation():
    Z, scaler = gdcore.standardize(_hand_dataset())
    # column a: mean 2, population std sqrt(2/3); column b: mean 30, std sqrt((400 + 100 + 900) / 3)
    mean = np.array([2.0, 30.0])
    scale = np.array([math.sqrt(2 / 3), math.sqrt(1400 / 3)])
    np.testing.assert_allclose(scaler.mean, mean, rtol=1e-15)
    np.testing.assert_allclose(scaler.scale, scale, rtol=1e-15)
    expected = np.array(
        [[-1 / scale[0], -20 / scale[1]], [0.0, -10 / scale[1]], [1 / scale[0], 30 / scale[1]]]
    )
    np.testing.assert_allclose(Z.X, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(Z.y, HAND_Y)
    assert Z.feature_names == ("a", "b")
    # true coefficients carried into standardized units: coef * scale and intercept + coef . mean
    np.testing.assert_allclose(Z.coef, [2.0 * scale[0], 0.5 * scale[1]])
    assert Z.intercept == pytest.approx(1.0 + 2.0 * 2.0 + 0.5 * 30.0)
    np.testing.assert_allclose(scaler.transform(HAND_X), Z.X)


def test_to_original_against_a_hand_computation():
    _, scaler = gdcore.standardize(_hand_dataset())
    w, b = np.array([3.0, -4.0]), 5.0
    s = scaler.scale
    w_orig, b_orig = scaler.to_original(w, b)
    np.testing.assert_allclose(w_orig, [3.0 / s[0], -4.0 / s[1]], rtol=1e-15)
    assert b_orig == pytest.approx(5.0 - (3.0 * 2.0 / s[0] - 4.0 * 30.0 / s[1]), rel=1e-14)
    assert isinstance(b_orig, float)
    # same predictions in both unit systems, and to_standardized undoes to_original
    np.testing.assert_allclose(HAND_X @ w_orig + b_orig, scaler.transform(HAND_X) @ w + b, rtol=1e-13)
    w_back, b_back = scaler.to_standardized(w_orig, b_orig)
    np.testing.assert_allclose(w_back, w, rtol=1e-14)
    assert b_back == pytest.approx(b, rel=1e-14)


def test_to_original_maps_a_whole_trajectory(diabetes):
    Z, scaler = gdcore.standardize(diabetes)
    run = gdcore.descend(Z.X, Z.y, alpha=0.1, epochs=20, w0=0.0)
    weights, bias = scaler.to_original(run.weights, run.bias)
    assert weights.shape == run.weights.shape and bias.shape == run.bias.shape
    for t in (0, 7, 20):
        w_t, b_t = scaler.to_original(run.weights[t], run.bias[t])
        np.testing.assert_allclose(weights[t], w_t)
        assert bias[t] == pytest.approx(b_t)
    with raises("weights must have 10 entries per parameter vector; got shape (3,)"):
        scaler.to_original(np.zeros(3), 0.0)


def test_constant_feature_keeps_scale_one_and_says_so():
    data = gdcore.Dataset(
        X=np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]]),
        y=np.array([1.0, 2.0, 3.0]),
        coef=np.full(2, np.nan),
        feature_names=("x", "k"),
        name="c",
    )
    Z, scaler = gdcore.standardize(data)
    assert scaler.scale[1] == 1.0 and scaler.constant_features == ("k",)
    np.testing.assert_array_equal(Z.X[:, 1], 0.0)
    assert "constant feature(s) 'k' kept scale 1" in scaler.note
    assert any("kept scale 1" in note for note in Z.notes)


def test_a_training_scaler_applies_to_the_test_set(diabetes):
    train, test = gdcore.train_test_split(diabetes, test_fraction=0.25, seed=3)
    train_z, scaler = gdcore.standardize(train)
    test_z, same = gdcore.standardize(test, scaler)
    assert same is scaler
    np.testing.assert_allclose(test_z.X, (test.X - train.X.mean(axis=0)) / train.X.std(axis=0))
    assert np.abs(train_z.X.mean(axis=0)).max() < 1e-12


# --------------------------------------------------------------------------------------------------
# train/test split


def test_split_is_reproducible_by_seed_and_disjoint(diabetes):
    train, test = gdcore.train_test_split(diabetes, test_fraction=0.2, seed=7)
    again_train, again_test = gdcore.train_test_split(diabetes, test_fraction=0.2, seed=7)
    np.testing.assert_array_equal(train.X, again_train.X)
    np.testing.assert_array_equal(test.y, again_test.y)
    other_train, _ = gdcore.train_test_split(diabetes, test_fraction=0.2, seed=8)
    assert not np.array_equal(train.X, other_train.X)

    assert (train.n_samples, test.n_samples) == (353, 89)  # ceil(0.2 * 442) = 89
    train_rows, test_rows = gdcore.train_test_indices(442, 0.2, 7)
    assert np.intersect1d(train_rows, test_rows).size == 0
    np.testing.assert_array_equal(np.union1d(train_rows, test_rows), np.arange(442))
    np.testing.assert_array_equal(train.X, diabetes.X[train_rows])
    np.testing.assert_array_equal(test.y, diabetes.y[test_rows])
    expected = np.sort(np.random.default_rng(7).permutation(442)[:89])
    np.testing.assert_array_equal(test_rows, expected)


def test_split_sizes():
    assert [gdcore.train_test_indices(10, f, 0)[1].size for f in (0.2, 0.3, 0.5)] == [2, 3, 5]
    assert gdcore.train_test_indices(4, 0.5, 0)[0].size == 2


def test_zero_test_fraction_gives_an_empty_test_set(diabetes):
    train, test = gdcore.train_test_split(diabetes, test_fraction=0.0, seed=1)
    np.testing.assert_array_equal(train.X, diabetes.X)
    assert test.n_samples == 0
    assert test.X.shape == (0, 10) and test.y.shape == (0,)
    assert test.feature_names == diabetes.feature_names


@pytest.mark.parametrize(
    ("n", "fraction", "message"),
    [
        (100, 0.6, "test_fraction must be a finite number >= 0 and <= 0.5; got 0.6"),
        (100, -0.1, "test_fraction must be a finite number >= 0 and <= 0.5; got -0.1"),
        (100, float("nan"), "test_fraction must be a finite number >= 0 and <= 0.5; got nan"),
        (10, 0.1, "test_fraction=0.1 of 10 rows gives 1 test row(s); a test set needs at least 2"),
        (3, 0.5, "test_fraction=0.5 of 3 rows leaves 1 training row(s); at least 2 are needed"),
    ],
)
def test_split_validation(n, fraction, message):
    with raises(message):
        gdcore.train_test_indices(n, fraction, 0)


def test_split_seed_is_validated(diabetes):
    with raises("seed must be an integer from 0 to 4,294,967,295; got -1"):
        gdcore.train_test_split(diabetes, 0.2, seed=-1)


def test_csv_errors_name_the_dashboard_controls_in_the_dashboard():
    """The library's message says `drop_nonfinite=True`; the dashboard's names its drop box instead."""
    text = "a,y\n1,2\n,3\n4,5\n"
    with pytest.raises(gdcore.CsvError) as caught:
        gdcore.read_csv(text.encode())
    assert "drop_nonfinite=True" in str(caught.value)
    ui = caught.value.for_dashboard()
    assert "drop_nonfinite" not in ui and "tick the box" in ui and ui.startswith(caught.value.problem)
