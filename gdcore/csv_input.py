"""A user's CSV file as a `Dataset`, read as data only, with a `ValueError` for every way it can be wrong.

The bytes are decoded as UTF-8 here and parsed by pandas' C parser into numbers and strings: nothing in
the file is evaluated, unpickled or fetched (a path is opened here and never handed to pandas, which would
follow a URL). Column names stay plain text; only surrounding whitespace is stripped.

Two steps, so a dashboard can offer choices between them:

>>> preview = inspect_csv(b"a,b,y\\n1,2,3\\n2,1,5\\n3,5,4\\n")
>>> preview.numeric_columns, preview.default_target, preview.default_features
(('a', 'b', 'y'), 'y', ('a', 'b'))
>>> read_csv(b"a,b,y\\n1,2,3\\n2,1,5\\n3,5,4\\n", target="y").X.shape
(3, 2)
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from gdcore.data import Dataset
from gdcore.validation import MAX_FEATURES

if TYPE_CHECKING:
    import pandas as pd

CsvSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | IO[str]
"""A path, the file's bytes, or a binary or text file-like (Streamlit's UploadedFile is a BytesIO)."""

MAX_UPLOAD_MB = 50  # the dashboard's .streamlit/config.toml sets server.maxUploadSize to the same
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # Streamlit counts a megabyte as 1024 * 1024 bytes
PREVIEW_ROWS = 5
DELIMITERS = ",;\t"
_SNIFF_LINES = 20

_ALLOWED = (
    "a UTF-8 text file with one header row of column names and rows of numbers, "
    "comma-, semicolon- or tab-separated"
)


class CsvError(ValueError):
    """A bad CSV. `problem` says what is wrong and what is allowed; `remedy` how to fix it from Python,
    `ui_remedy` the same in the dashboard's words. str() is the library's view: problem; remedy."""

    def __init__(self, problem: str, remedy: str = "", ui_remedy: str = ""):
        super().__init__(f"{problem}; {remedy}" if remedy else problem)
        self.problem, self.remedy, self.ui_remedy = problem, remedy, ui_remedy or remedy

    def for_dashboard(self) -> str:
        return f"{self.problem}; {self.ui_remedy}" if self.ui_remedy else self.problem


@dataclass(frozen=True)
class CsvPreview:
    """What a CSV holds, to choose the target and feature columns before `read_csv`.

    `columns` are all column names in file order, `numeric_columns` those whose cells are numbers (empty,
    NA or inf cells allowed; booleans and text are not numeric), `n_rows` the data rows below the header,
    `head` the first rows as parsed, `nonfinite_rows` the rows with a NaN (empty, NA) or inf cell in a
    numeric column, `nonfinite_counts` such cells per numeric column, `constant_columns` the numeric
    columns whose finite cells are all equal (they cannot be features).
    """

    name: str
    columns: tuple[str, ...]
    numeric_columns: tuple[str, ...]
    n_rows: int
    head: pd.DataFrame
    nonfinite_rows: int
    nonfinite_counts: dict[str, int]
    constant_columns: tuple[str, ...]
    delimiter: str

    @property
    def default_target(self) -> str:
        """The last numeric column."""
        return self.numeric_columns[-1]

    @property
    def default_features(self) -> tuple[str, ...]:
        """Every numeric column but the default target."""
        return self.numeric_columns[:-1]


@dataclass(frozen=True)
class _Parsed:
    name: str
    frame: pd.DataFrame
    numeric: tuple[str, ...]
    delimiter: str


def inspect_csv(source: CsvSource) -> CsvPreview:
    """Parse `source` (a path, bytes, or a binary or text file-like) and describe its columns.

    Raises ValueError for a file that is too large, empty, not UTF-8 text, not parseable as CSV, has
    duplicate column names, no numeric column or fewer than 2 data rows. A file-like is read from its
    current position, which is restored afterwards, so the same upload can be inspected and then read.
    """
    parsed = _parse(source)
    frame, numeric = parsed.frame, parsed.numeric
    values = frame[list(numeric)].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    constant = []
    for j, column in enumerate(numeric):
        present = values[finite[:, j], j]
        if present.size and present.min() == present.max():
            constant.append(column)
    return CsvPreview(
        name=parsed.name,
        columns=tuple(frame.columns),
        numeric_columns=numeric,
        n_rows=len(frame),
        head=frame.head(PREVIEW_ROWS).reset_index(drop=True),
        nonfinite_rows=int(np.count_nonzero(~finite.all(axis=1))),
        nonfinite_counts={c: int(n) for c, n in zip(numeric, (~finite).sum(axis=0), strict=True)},
        constant_columns=tuple(constant),
        delimiter=parsed.delimiter,
    )


def read_csv(
    source: CsvSource,
    target: str | None = None,
    features: Sequence[str] | None = None,
    *,
    drop_nonfinite: bool = False,
) -> Dataset:
    """Read `source` into a Dataset with X = the feature columns (N, d) and y = the target column (N,).

    `source` is a path, bytes, or a binary or text file-like (e.g. Streamlit's UploadedFile). `target`
    defaults to the last numeric column, `features` to every other numeric column (at most MAX_FEATURES).
    Rows with a NaN or inf cell in a chosen column raise ValueError unless `drop_nonfinite=True`, which
    drops them and records how many in `Dataset.notes`. Each problem raises a ValueError that says what
    is wrong and what is allowed; see `inspect_csv` for the file-level ones.
    """
    parsed = _parse(source)
    frame, numeric = parsed.frame, parsed.numeric
    target = _choose_target(frame, numeric, target)
    chosen, defaulted = _choose_features(frame, numeric, target, features)
    if len(chosen) > MAX_FEATURES:
        how = "every numeric column but the target is a feature by default; " if defaulted else ""
        raise CsvError(
            f"{len(chosen)} feature columns were chosen; at most {MAX_FEATURES} are allowed",
            remedy=f"{how}pass features=[...] with {MAX_FEATURES} or fewer column names",
            ui_remedy=f"keep {MAX_FEATURES} or fewer in the feature columns",
        )
    values = frame[[*chosen, target]].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values).all(axis=1)
    n_bad = int(np.count_nonzero(bad))
    notes: tuple[str, ...] = ()
    if n_bad:
        if not drop_nonfinite:
            counts = (~np.isfinite(values)).sum(axis=0)
            where = ", ".join(f"{c!r}: {int(k)}" for c, k in zip([*chosen, target], counts, strict=True) if k)
            raise CsvError(
                f"{n_bad} of {len(values)} rows have a NaN or inf cell (empty, NA, NaN or inf) in the "
                f"chosen columns (cells per column: {where}; first at data row {int(np.argmax(bad)) + 1}); "
                "every cell used must be a finite number",
                remedy="pass drop_nonfinite=True to drop those rows, or fill the cells in",
                ui_remedy="tick the box that drops those rows, or fill the cells in and upload again",
            )
        values = values[~bad]
        notes = (f"dropped {n_bad} of {len(bad)} rows with a NaN or inf cell in the chosen columns",)
        if len(values) < 2:
            raise ValueError(
                f"after dropping {n_bad} rows with NaN or inf, {len(values)} row(s) are left; "
                "at least 2 rows of finite numbers are needed"
            )
    X, y = values[:, :-1], values[:, -1]
    constant = [c for j, c in enumerate(chosen) if X[:, j].min() == X[:, j].max()]
    if constant:
        names = ", ".join(f"{c!r} (every row is {X[0, chosen.index(c)]:g})" for c in constant)
        which = f"feature column {names} is" if len(constant) == 1 else f"feature columns {names} are"
        raise ValueError(
            f"{which} constant: a constant feature cannot help predict the target and leaves the "
            "least-squares optimum not unique; leave it out of features"
        )
    return Dataset(
        X=np.ascontiguousarray(X),
        y=np.ascontiguousarray(y),
        coef=np.full(len(chosen), np.nan),
        feature_names=tuple(chosen),
        name=parsed.name,
        target_name=target,
        notes=notes,
    )


def _choose_target(frame: pd.DataFrame, numeric: tuple[str, ...], target: str | None) -> str:
    if target is None:
        return numeric[-1]
    _check_column(frame, numeric, target, "target column")
    return target


def _choose_features(
    frame: pd.DataFrame, numeric: tuple[str, ...], target: str, features: Sequence[str] | None
) -> tuple[list[str], bool]:
    if features is None:
        chosen = [c for c in numeric if c != target]
        if not chosen:
            raise ValueError(
                f"the file has only one numeric column ({target!r}), the target; at least one more "
                "numeric column is needed as a feature"
            )
        return chosen, True
    chosen = [features] if isinstance(features, str) else list(features)
    if not chosen:
        raise ValueError(f"at least one feature column is needed; the numeric columns are: {_names(numeric)}")
    for name in chosen:
        _check_column(frame, numeric, name, "feature column")
    if target in chosen:
        raise ValueError(f"{target!r} is the target column and cannot also be a feature")
    repeated = sorted({c for c in chosen if chosen.count(c) > 1})
    if repeated:
        raise ValueError(f"each feature column may be chosen once; repeated: {_names(repeated)}")
    return chosen, False


def _check_column(frame: pd.DataFrame, numeric: tuple[str, ...], name: object, role: str) -> None:
    if not isinstance(name, str) or name not in frame.columns:
        raise ValueError(f"{role} {name!r} is not in the file; the numeric columns are: {_names(numeric)}")
    if name not in numeric:
        raise ValueError(
            f"{role} {name!r} is not numeric ({_first_text(frame[name])}); choose one of the numeric "
            f"columns: {_names(numeric)}"
        )


def _first_text(column: pd.Series) -> str:
    import pandas as pd

    if column.isna().all():
        return "all of its cells are empty"
    coerced = pd.to_numeric(column, errors="coerce")
    offending = column.notna() & coerced.isna()
    if offending.any():
        row = int(np.argmax(offending.to_numpy()))
        return f"data row {row + 1} holds {str(column.iloc[row])!r}; numbers use '.' as decimal point"
    return f"its cells are {column.dtype} values"


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "(none)"


# ---------------------------------------------------------------------------------------------------
# bytes -> text -> frame


def _parse(source: CsvSource) -> _Parsed:
    raw, name = _read_source(source)
    text = _decode(raw)
    import pandas as pd

    delimiter = _sniff_delimiter(text)
    options = {"sep": delimiter, "engine": "c", "skip_blank_lines": True}
    try:
        # The header read raw (no NA conversion, no renaming of duplicates); reading a second row makes
        # the parser reject a first data row longer than the header, which pandas would otherwise
        # silently turn into an index column.
        top = pd.read_csv(io.StringIO(text), header=None, nrows=2, dtype=str, na_filter=False, **options)
        names = [str(v).strip() or f"column {i + 1}" for i, v in enumerate(top.iloc[0])]
        frame = pd.read_csv(io.StringIO(text), header=0, low_memory=False, **options)
    except pd.errors.EmptyDataError:
        raise ValueError(_empty_message()) from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise ValueError(
            f"the file could not be parsed as CSV ({' '.join(str(exc).split())}); expected {_ALLOWED}, "
            "with the same number of fields on every row and quotes closed"
        ) from None
    _check_unique(names)
    frame.columns = names
    if len(frame) < 2:
        raise ValueError(
            f"the file has {len(frame)} data row(s) below the header; at least 2 rows of numbers are needed"
        )
    numeric = tuple(c for c in names if _is_numeric(frame[c]))
    if not numeric:
        raise ValueError(
            f"no column of the file is numeric (columns: {_names(names)}); gradient descent needs "
            "numbers: a numeric target column and at least one numeric feature column, "
            "with '.' as decimal point"
        )
    return _Parsed(name, frame, numeric, delimiter)


def _is_numeric(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column) and bool(column.notna().any())


def _check_unique(names: list[str]) -> None:
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, []).append(i + 1)
    repeated = {name: where for name, where in positions.items() if len(where) > 1}
    if repeated:
        details = "; ".join(
            f"{name!r} is the name of columns {', '.join(map(str, where[:-1]))} and {where[-1]}"
            for name, where in repeated.items()
        )
        raise ValueError(f"column names must be unique: {details}; rename the columns so each is unique")


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].lstrip("\r\n").splitlines()[:_SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _empty_message() -> str:
    return f"the file is empty; expected {_ALLOWED}, and at least 2 rows"


def _decode(raw: bytes | str) -> str:
    if len(raw) == 0:
        raise ValueError(_empty_message())
    if (b"\x00" if isinstance(raw, bytes) else "\x00") in raw:
        raise ValueError(
            "the file is not text: it contains NUL bytes (is it a spreadsheet such as .xlsx, or UTF-16?); "
            f"expected {_ALLOWED}: save it as 'CSV UTF-8'"
        )
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at position {exc.start:,} "
                f"cannot be decoded; expected {_ALLOWED}: save it as 'CSV UTF-8'"
            ) from None
    else:
        text = raw.removeprefix("\ufeff")
    if not text.strip():
        raise ValueError(_empty_message())
    return text


def _read_source(source: CsvSource) -> tuple[bytes | str, str]:
    """The raw content of `source` and a name for it, refusing anything over MAX_UPLOAD_BYTES."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        _check_size(len(raw))
        return raw, "CSV data"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            _check_size(path.stat().st_size)
            return path.read_bytes(), path.name
        except OSError as exc:
            raise ValueError(f"cannot read the CSV file {str(path)!r}: {exc.strerror or exc}") from None
    if callable(getattr(source, "read", None)):
        return _read_stream(source), _stream_name(source)
    raise ValueError(
        f"source must be a path, bytes, or a file-like object with read(); got {type(source).__name__}"
    )


def _read_stream(stream) -> bytes | str:
    """Read a binary or text stream from its current position, then restore that position."""
    start = _tell(stream)
    try:
        raw = stream.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            _check_size(_stream_size(stream, start))
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text ({exc.reason}); expected {_ALLOWED}") from None
    finally:
        if start is not None:
            stream.seek(start)
    if isinstance(raw, str):
        _check_size(len(raw.encode("utf-8", "surrogatepass")))
        return raw
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ValueError(f"the file-like source returned {type(raw).__name__} from read(), not bytes or text")
    return bytes(raw)


def _stream_name(stream) -> str:
    name = getattr(stream, "name", None)
    return Path(name).name if isinstance(name, str) and name else "uploaded file"


def _stream_size(stream, start: int | None) -> int | None:
    """Bytes from `start` to the end of a seekable stream (characters for a text stream), else None."""
    if start is None:
        return None
    return stream.seek(0, io.SEEK_END) - start


def _tell(stream) -> int | None:
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _check_size(size: int | None) -> None:
    """Raise ValueError if size > MAX_UPLOAD_BYTES; None means 'more than the limit, size unknown'."""
    if size is not None and size <= MAX_UPLOAD_BYTES:
        return
    actual = "more than that" if size is None else f"{size:,} bytes ({size / (1024 * 1024):.2f} MB)"
    raise ValueError(
        f"the file is too large: files up to {MAX_UPLOAD_MB} MB ({MAX_UPLOAD_BYTES:,} bytes) are allowed; "
        f"this one is {actual}"
    )
