"""A user's CSV file as a `Dataset`, read as data only, with a `ValueError` for every way it can be wrong.

The bytes are decoded as UTF-8 (with or without a byte-order mark), else as Windows-1252, else as Latin-1,
and parsed by pandas' C parser into numbers and strings: nothing in the file is evaluated, unpickled or
fetched (a path is opened here and never handed to pandas, which would follow a URL). Column names stay
plain text; only surrounding whitespace is stripped.

The format is detected from the file, not assumed: the separator (',', ';' or tab; an Excel `sep=;` first
line is honoured and skipped), the decimal mark (`1.5` or `1,5`) and a thousands separator (`"1,234"` in a
comma-separated file, `1.234,5` with a decimal comma). `CsvPreview.format_note` says what was detected. A
column that cannot be read as numbers is never dropped silently: `CsvPreview.text_columns` says why for each
one, and `CsvPreview.notes` repeats what matters (and names index-like columns left out of the defaults).

Two steps, so a dashboard can offer choices between them:

>>> preview = inspect_csv(b"a,b,y\\n1,2,3\\n2,1,5\\n3,5,4\\n")
>>> preview.numeric_columns, preview.default_target, preview.default_features
(('a', 'b', 'y'), 'y', ('a', 'b'))
>>> read_csv(b"a,b,y\\n1,2,3\\n2,1,5\\n3,5,4\\n", target="y").X.shape
(3, 2)
>>> inspect_csv(b"a;y\\n1,5;3\\n2,25;5\\n3,0;4\\n").format_note
"UTF-8, separator ';', decimal comma"
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
DELIMITERS = ",;\t"  # the separators sniffed; an Excel 'sep=' first line may name any other
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
"""Tried in this order (utf-8-sig is UTF-8 with or without a byte-order mark); Latin-1 decodes any byte."""
_SNIFF_LINES = 20
_SNIFF_CHARS = 65536

_ALLOWED = (
    "a UTF-8 text file with one header row of column names and rows of numbers, "
    "comma-, semicolon- or tab-separated"
)

_ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252 (not UTF-8)", "latin-1": "Latin-1 (not UTF-8)"}
_SEPARATOR_NAMES = {"\t": "tab"}

# Number formats, as (decimal mark, thousands separator or ""). A cell is a number in a format when it
# matches that format's pattern in full (after stripping spaces); pandas' own parsing is more lenient
# (with thousands=',' it reads "1,2" as 12), so every column it reads as numbers is checked against these.
POINT, POINT_THOUSANDS, COMMA, COMMA_THOUSANDS = (".", ""), (".", ","), (",", ""), (",", ".")
_EXPONENT = r"(?:[eE][+-]?\d+)?"
_SPECIAL = r"(?i:[+-]?(?:inf|infinity|nan))"
_FORMAT_PATTERNS = {
    POINT: rf"[+-]?(?:\d+\.?\d*|\.\d+){_EXPONENT}",
    POINT_THOUSANDS: rf"[+-]?(?:\d+\.?\d*|\.\d+|\d{{1,3}}(?:,\d{{3}})+(?:\.\d*)?){_EXPONENT}",
    COMMA: rf"[+-]?(?:\d+,?\d*|,\d+){_EXPONENT}",
    COMMA_THOUSANDS: rf"[+-]?(?:\d+,?\d*|,\d+|\d{{1,3}}(?:\.\d{{3}})+(?:,\d*)?){_EXPONENT}",
}
_FORMAT_PATTERNS = {fmt: f"{_SPECIAL}|{pattern}" for fmt, pattern in _FORMAT_PATTERNS.items()}
_ANY_NUMBER = "|".join(f"(?:{pattern})" for pattern in _FORMAT_PATTERNS.values())
_FORMAT_SAMPLE_ROWS = 2000  # rows looked at to choose the number format (all are checked afterwards)
# A text cell that would be a number with a decimal comma or a thousands separator: worth a closer look.
_LOCAL_NUMBER = r"[+-]?(?=[\d.,]*\d)[\d.]*,[\d.,]*(?:[eE][+-]?\d+)?"
_SEP_LINE = r'(?i)"?sep=([^\w\s"\']|\t)"?[ \t]*'
# Header cells of a column that pandas' to_csv wrote for the row index: empty, "Unnamed: 0", "index".
_INDEX_HEADER = r"(?i)(?:unnamed: ?\d+|index|level_0)?"
_EXAMPLES = 3
_ROWS_SHOWN = 5


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
    columns whose finite cells are all equal (they cannot be features), `delimiter` the separator.

    How the file was read: `encoding` ('utf-8', with or without a byte-order mark, 'cp1252',
    'latin-1', or '' for text given as str), `decimal` ('.' or ','), `thousands` (',' or '.' when the
    numbers group thousands, else ''), and all of it in words in `format_note`, e.g.
    "Windows-1252 (not UTF-8), separator ';', decimal comma" (for the dashboard to show).

    `index_columns` are numeric columns that look like a saved row index (a header that is empty,
    "Unnamed: 0" or "index", and whole numbers counting up): they are left out of `default_features`.
    `text_columns` maps each column that is not numeric to why, e.g. "column 'price' has text values such
    as '?' in data rows 3, 7: ...". `notes` are the sentences to show the user: index columns left out,
    columns that are mostly numbers but hold some text or another number format, and the text columns.
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
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str = ""
    format_note: str = ""
    index_columns: tuple[str, ...] = ()
    text_columns: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def default_target(self) -> str:
        """The last numeric column that is neither constant nor index-like (else the last numeric one)."""
        return _default_target(self.numeric_columns, self.constant_columns, self.index_columns)

    @property
    def default_features(self) -> tuple[str, ...]:
        """Every numeric column but the default target and the index-like columns."""
        target = self.default_target
        return tuple(c for c in self.numeric_columns if c != target and c not in self.index_columns)


@dataclass(frozen=True)
class _Parsed:
    name: str
    frame: pd.DataFrame
    numeric: tuple[str, ...]
    values: np.ndarray  # the numeric columns as float64, (N, len(numeric))
    delimiter: str
    encoding: str
    decimal: str
    thousands: str
    format_note: str
    constant: tuple[str, ...]
    index_columns: tuple[str, ...]
    text_columns: dict[str, str]
    mixed_columns: tuple[str, ...]  # text columns that are partly numbers, or numbers in another format

    @property
    def index_note(self) -> str:
        if not self.index_columns:
            return ""
        names = _names(self.index_columns)
        one = len(self.index_columns) == 1
        return (
            f"{names} {'looks' if one else 'look'} like a row index saved with the data (no column name or "
            f"'index', whole numbers counting up), so {'it is' if one else 'they are'} not preselected as "
            f"{'a feature' if one else 'features'}; choose {'it' if one else 'them'} if "
            f"{'it is' if one else 'they are'} real data"
        )

    def notes(self) -> tuple[str, ...]:
        notes = [self.index_note] if self.index_columns else []
        notes += [self.text_columns[c] for c in self.mixed_columns]
        plain = [c for c in self.text_columns if c not in self.mixed_columns]
        if plain:
            notes.append(
                "not offered as target or feature: " + "; ".join(self.text_columns[c] for c in plain)
            )
        return tuple(notes)


def inspect_csv(source: CsvSource) -> CsvPreview:
    """Parse `source` (a path, bytes, or a binary or text file-like) and describe its columns.

    Raises ValueError for a file that is too large, empty, not text, not parseable as CSV, has duplicate
    column names, no numeric column or fewer than 2 data rows. A file-like is read from its current
    position, which is restored afterwards, so the same upload can be inspected and then read.
    """
    parsed = _parse(source)
    frame, numeric, values = parsed.frame, parsed.numeric, parsed.values
    finite = np.isfinite(values)
    return CsvPreview(
        name=parsed.name,
        columns=tuple(frame.columns),
        numeric_columns=numeric,
        n_rows=len(frame),
        head=frame.head(PREVIEW_ROWS).reset_index(drop=True),
        nonfinite_rows=int(np.count_nonzero(~finite.all(axis=1))),
        nonfinite_counts={c: int(n) for c, n in zip(numeric, (~finite).sum(axis=0), strict=True)},
        constant_columns=parsed.constant,
        delimiter=parsed.delimiter,
        encoding=parsed.encoding,
        decimal=parsed.decimal,
        thousands=parsed.thousands,
        format_note=parsed.format_note,
        index_columns=parsed.index_columns,
        text_columns=dict(parsed.text_columns),
        notes=parsed.notes(),
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
    defaults to `CsvPreview.default_target` (the last numeric column that is not constant), `features` to
    every other numeric column but index-like ones (at most MAX_FEATURES); columns left out by default
    because they look like an index or hold some text are named in `Dataset.notes`. Rows with a NaN or
    inf cell in a chosen column raise ValueError unless `drop_nonfinite=True`, which drops them and
    records how many in `Dataset.notes`. Each problem raises a ValueError that says what is wrong and
    what is allowed; see `inspect_csv` for the file-level ones.
    """
    parsed = _parse(source)
    numeric = parsed.numeric
    target = _choose_target(parsed, target)
    chosen, defaulted = _choose_features(parsed, target, features)
    if len(chosen) > MAX_FEATURES:
        how = "every numeric column but the target is a feature by default; " if defaulted else ""
        raise CsvError(
            f"{len(chosen)} feature columns were chosen; at most {MAX_FEATURES} are allowed",
            remedy=f"{how}pass features=[...] with {MAX_FEATURES} or fewer column names",
            ui_remedy=f"keep {MAX_FEATURES} or fewer in the feature columns",
        )
    columns = [numeric.index(c) for c in [*chosen, target]]
    values = parsed.values[:, columns]
    bad = ~np.isfinite(values).all(axis=1)
    n_bad = int(np.count_nonzero(bad))
    notes: list[str] = []
    if defaulted:
        notes += [parsed.index_note] if parsed.index_columns else []
        notes += [parsed.text_columns[c] for c in parsed.mixed_columns]
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
        notes.append(f"dropped {n_bad} of {len(bad)} rows with a NaN or inf cell in the chosen columns")
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
        notes=tuple(notes),
    )


def _default_target(numeric: Sequence[str], constant: Sequence[str], index: Sequence[str]) -> str:
    """The last numeric column that is neither constant (a constant target diverges under
    standardization and teaches nothing) nor index-like; failing that the last one not index-like,
    failing that the last one."""
    for keep in (lambda c: c not in constant and c not in index, lambda c: c not in index):
        chosen = [c for c in numeric if keep(c)]
        if chosen:
            return chosen[-1]
    return numeric[-1]


def _choose_target(parsed: _Parsed, target: str | None) -> str:
    if target is None:
        return _default_target(parsed.numeric, parsed.constant, parsed.index_columns)
    _check_column(parsed, target, "target column")
    return target


def _choose_features(parsed: _Parsed, target: str, features: Sequence[str] | None) -> tuple[list[str], bool]:
    numeric = parsed.numeric
    if features is None:
        chosen = [c for c in numeric if c != target and c not in parsed.index_columns]
        if not chosen and parsed.index_columns:
            one = len(parsed.index_columns) == 1
            raise ValueError(
                f"besides the target {target!r} the only numeric "
                f"{'column' if one else 'columns'} {_names(parsed.index_columns)} "
                f"{'looks' if one else 'look'} like a row index, not used by default; pass "
                f"features=[...] to use {'it' if one else 'them'} anyway"
            )
        if not chosen:
            why = "".join(f"; {parsed.text_columns[c]}" for c in parsed.mixed_columns)
            raise ValueError(
                f"the file has only one numeric column ({target!r}), the target; at least one more "
                f"numeric column is needed as a feature{why}"
            )
        return chosen, True
    chosen = [features] if isinstance(features, str) else list(features)
    if not chosen:
        raise ValueError(f"at least one feature column is needed; the numeric columns are: {_names(numeric)}")
    for name in chosen:
        _check_column(parsed, name, "feature column")
    if target in chosen:
        raise ValueError(f"{target!r} is the target column and cannot also be a feature")
    repeated = sorted({c for c in chosen if chosen.count(c) > 1})
    if repeated:
        raise ValueError(f"each feature column may be chosen once; repeated: {_names(repeated)}")
    return chosen, False


def _check_column(parsed: _Parsed, name: object, role: str) -> None:
    frame, numeric = parsed.frame, parsed.numeric
    if not isinstance(name, str) or name not in frame.columns:
        raise ValueError(f"{role} {name!r} is not in the file; the numeric columns are: {_names(numeric)}")
    if name not in numeric:
        raise ValueError(
            f"{role} {name!r} is not numeric "
            f"({_first_text(frame[name], (parsed.decimal, parsed.thousands))}); "
            f"choose one of the numeric columns: {_names(numeric)}"
        )


def _first_text(column: pd.Series, number_format: tuple[str, str]) -> str:
    from pandas.api.types import is_bool_dtype

    if column.isna().all():
        return "all of its cells are empty"
    if not is_bool_dtype(column):
        cells = column.dropna().astype(str).str.strip()
        offending = ~cells.str.fullmatch(_FORMAT_PATTERNS[number_format])
        if offending.any():
            row = int(cells.index[int(np.argmax(offending.to_numpy()))])
            decimal, thousands = number_format
            grouping = f" and {thousands!r} between thousands" if thousands else ""
            return (
                f"data row {row + 1} holds {str(column.iloc[row])!r}; numbers use {decimal!r} as decimal "
                f"point{grouping}"
            )
    return f"its cells are {column.dtype} values"


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "(none)"


# ---------------------------------------------------------------------------------------------------
# bytes -> text -> frame


def _parse(source: CsvSource) -> _Parsed:
    raw, name = _read_source(source)
    text, encoding = _decode(raw)
    import pandas as pd

    delimiter, skip = _separator_line(text)
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    options = {"sep": delimiter, "engine": "c", "skip_blank_lines": True, "skiprows": skip}
    number_format = POINT
    try:
        # The header read raw (no NA conversion, no renaming of duplicates); reading a second row makes
        # the parser reject a first data row longer than the header, which pandas would otherwise
        # silently turn into an index column.
        top = pd.read_csv(io.StringIO(text), header=None, nrows=2, dtype=str, na_filter=False, **options)
        headers = [str(v).strip() for v in top.iloc[0]]
        names = [h or f"column {i + 1}" for i, h in enumerate(headers)]
        _check_unique(names)
        frame = pd.read_csv(io.StringIO(text), header=0, low_memory=False, **options)
        frame.columns = names
        if _may_be_local_numbers(frame):
            # Decided on the first rows as text; then every column pandas reads as numbers in that format
            # is checked in full, since pandas is lenient (with thousands=',' it reads "1,2" as 12).
            sample = pd.read_csv(io.StringIO(text), header=0, dtype=str, nrows=_FORMAT_SAMPLE_ROWS, **options)
            sample.columns = names
            number_format = _choose_number_format(sample, delimiter)
            if number_format != POINT:
                frame = _reread_numbers(text, options, names, frame, number_format)
    except pd.errors.EmptyDataError:
        raise ValueError(_empty_message()) from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        if isinstance(exc, CsvError):
            raise
        raise ValueError(
            f"the file could not be parsed as CSV ({' '.join(str(exc).split())}); expected {_ALLOWED}, "
            "with the same number of fields on every row and quotes closed"
        ) from None
    if len(frame) < 2:
        raise ValueError(
            f"the file has {len(frame)} data row(s) below the header; at least 2 rows of numbers are needed"
        )
    numeric = tuple(c for c in names if _is_numeric(frame[c]))
    note = _format_note(encoding, delimiter, bool(skip), number_format)
    text_columns, mixed = {}, []
    for column in names:
        if column not in numeric:
            text_columns[column], partly_numbers = _why_not_numeric(frame[column], column, number_format)
            if partly_numbers:
                mixed.append(column)
    if not numeric:
        why = "".join(f"; {text_columns[c]}" for c in mixed)
        raise CsvError(
            f"no column of the file is numeric (columns: {_names(names)}); gradient descent needs numbers: "
            "a numeric target column and at least one numeric feature column, with '.' or ',' as decimal "
            f"point (the file was read as {note}){why}"
        )
    values = frame[list(numeric)].to_numpy(dtype=np.float64)
    header_of = dict(zip(names, headers, strict=True))
    return _Parsed(
        name=name,
        frame=frame,
        numeric=numeric,
        values=values,
        delimiter=delimiter,
        encoding=encoding,
        decimal=number_format[0],
        thousands=number_format[1],
        format_note=note,
        constant=_constant_columns(numeric, values),
        index_columns=tuple(c for j, c in enumerate(numeric) if _index_like(header_of[c], values[:, j])),
        text_columns=text_columns,
        mixed_columns=tuple(mixed),
    )


def _is_numeric(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column) and bool(column.notna().any())


def _is_text(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return not is_numeric_dtype(column) and not is_bool_dtype(column)


def _cells(column: pd.Series) -> pd.Series:
    """The filled cells of a column as stripped strings (NA cells and blanks left out), by row."""
    cells = column.dropna().astype(str).str.strip()
    return cells[cells != ""]


def _all_numbers(column: pd.Series, number_format: tuple[str, str]) -> bool:
    cells = _cells(column)
    return bool(len(cells)) and bool(cells.str.fullmatch(_FORMAT_PATTERNS[number_format]).all())


def _may_be_local_numbers(frame: pd.DataFrame) -> bool:
    """Whether a text column holds a cell like '141,9' or '1,234' (a cheap pre-check)."""
    for column in frame.columns:
        if _is_text(frame[column]):
            cells = _cells(frame[column])
            with_comma = cells[cells.str.contains(",", regex=False)].head(_FORMAT_SAMPLE_ROWS)
            if with_comma.str.fullmatch(_LOCAL_NUMBER).any():
                return True
    return False


def _reread_numbers(
    text: str, options: dict, names: list[str], first: pd.DataFrame, number_format: tuple[str, str]
) -> pd.DataFrame:
    """The file read again in `number_format`; a column read as numbers whose cells are not all strictly
    numbers in that format is kept as text (so it is reported, not misread)."""
    import pandas as pd

    decimal, thousands = number_format
    local = {"decimal": decimal, "thousands": thousands or None}
    frame = pd.read_csv(io.StringIO(text), header=0, low_memory=False, **options, **local)
    frame.columns = names
    # A column that was numbers with a decimal point reads the same with thousands=',' (it has no comma)
    # or as text with a decimal comma ("1.5"); with '.' between thousands pandas would read "1.5" as 15,
    # so its cells are needed as text to check.
    recheck = [i for i, c in enumerate(names) if _is_numeric(frame[c]) and not _is_text(first[c])]
    strings = None
    if recheck and number_format == COMMA_THOUSANDS:
        strings = pd.read_csv(io.StringIO(text), header=0, dtype=str, usecols=recheck, **options)
        strings.columns = [names[i] for i in recheck]
    for column in names:
        if not _is_numeric(frame[column]):
            continue
        cells = first[column] if _is_text(first[column]) else None
        if cells is None and strings is not None:
            cells = strings[column]
        if cells is not None and not _all_numbers(cells, number_format):
            frame[column] = cells
    return frame


def _choose_number_format(strings: pd.DataFrame, delimiter: str) -> tuple[str, str]:
    """The number format that reads the most columns as numbers, from the file's cells as text.

    Ties go to the decimal point (nothing to gain), then: in a comma-separated file a comma inside a
    number was quoted, which is how a thousands separator reaches such a file ("1,234"); with ';' or tab
    as separator, a comma is the decimal mark (European spreadsheets write "141,9").
    """
    if delimiter == ",":
        order = [POINT, POINT_THOUSANDS, COMMA, COMMA_THOUSANDS]
    else:
        order = [POINT, COMMA, COMMA_THOUSANDS, POINT_THOUSANDS]
    counts = {fmt: sum(_all_numbers(strings[c], fmt) for c in strings.columns) for fmt in order}
    return max(order, key=counts.__getitem__)  # the first of the best


def _why_not_numeric(column: pd.Series, name: str, number_format: tuple[str, str]) -> tuple[str, bool]:
    """Why `column` is not numeric, in a sentence naming it; and whether it is partly numbers (or
    numbers in another format), which the user most likely meant as a numeric column."""
    from pandas.api.types import is_bool_dtype

    if is_bool_dtype(column):
        return f"column {name!r} holds true/false values, not numbers", False
    cells = _cells(column)
    if not len(cells):
        return f"column {name!r} is empty", False
    numbers = cells.str.fullmatch(_FORMAT_PATTERNS[number_format])
    if not numbers.any():
        head = cells.head(_FORMAT_SAMPLE_ROWS)
        if not head.str.fullmatch(_ANY_NUMBER).any():  # text, most likely all of it: the first rows say so
            return f"column {name!r} holds text such as {_examples(head)}, not numbers", False
    other = cells.str.fullmatch(_ANY_NUMBER) & ~numbers
    text = ~numbers & ~other
    if text.any():
        bad = cells[text]
        where = f"in data {_rows(bad)}" + (
            f" ({len(bad):,} of {len(cells):,} filled cells)" if numbers.any() else ""
        )
        if not numbers.any() and not other.any():
            return f"column {name!r} holds text such as {_examples(bad)}, not numbers", False
        return (
            f"column {name!r} has text values such as {_examples(bad)} {where}: it is not read as numbers, "
            "so it is not offered as target or feature; replace those cells with numbers, or leave them "
            "empty",
            True,
        )
    bad = cells[other]
    return (
        f"column {name!r} has numbers written as {_examples(bad)} in data {_rows(bad)}, which do not "
        f"match this file's number format ({_number_words(number_format)}): it is not read as numbers, "
        "so it is not offered as target or feature; write every number in the file with the same "
        "decimal mark",
        True,
    )


def _examples(cells: pd.Series) -> str:
    shown = list(dict.fromkeys(cells.tolist()))[:_EXAMPLES]
    return ", ".join(repr(v[:40] + "…" if len(v) > 40 else v) for v in shown)


def _rows(cells: pd.Series) -> str:
    rows = [int(i) + 1 for i in cells.index[:_ROWS_SHOWN]]
    more = len(cells) - len(rows)
    label = "row" if len(cells) == 1 else "rows"
    return f"{label} {', '.join(map(str, rows))}" + (f" and {more:,} more" if more else "")


def _constant_columns(numeric: Sequence[str], values: np.ndarray) -> tuple[str, ...]:
    finite = np.isfinite(values)
    constant = []
    for j, column in enumerate(numeric):
        present = values[finite[:, j], j]
        if present.size and present.min() == present.max():
            constant.append(column)
    return tuple(constant)


def _index_like(header: str, values: np.ndarray) -> bool:
    """A row index pandas saved with the data: an empty, 'Unnamed: 0', 'index' or 'level_0' header over
    whole numbers counting up (0, 1, 2, ...; after filtering rows, with gaps)."""
    if not re.fullmatch(_INDEX_HEADER, header) or len(values) < 2 or not np.isfinite(values).all():
        return False
    if values[0] < 0 or not np.array_equal(values, np.round(values)):
        return False
    steps = np.diff(values)
    if header:  # a named 'index' column: exactly 0..N-1 or 1..N
        return values[0] in (0, 1) and bool(np.all(steps == 1))
    return bool(np.all(steps > 0))


def _format_note(encoding: str, delimiter: str, from_sep_line: bool, number_format: tuple[str, str]) -> str:
    parts = [_ENCODING_NAMES.get(encoding, encoding)] if encoding else []
    separator = _SEPARATOR_NAMES.get(delimiter, repr(delimiter))
    parts.append(f"separator {separator}" + (" (from the file's 'sep=' line)" if from_sep_line else ""))
    parts.append(_number_words(number_format))
    return ", ".join(parts)


def _number_words(number_format: tuple[str, str]) -> str:
    """'decimal point', 'decimal comma', "decimal comma, '.' between thousands (1.234)", ..."""
    decimal, thousands = number_format
    words = "decimal comma" if decimal == "," else "decimal point"
    if thousands:
        words += f", {thousands!r} between thousands ({'1,234' if thousands == ',' else '1.234'})"
    return words


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
        raise CsvError(f"column names must be unique: {details}; rename the columns so each is unique")


def _separator_line(text: str) -> tuple[str | None, int]:
    """Excel's first line 'sep=;' names the separator: (that separator, 1 line to skip), else (None, 0)."""
    match = re.fullmatch(_SEP_LINE, text.split("\n", 1)[0].rstrip("\r"))
    return (None, 0) if match is None else (match.group(1), 1)


def _sniff_delimiter(text: str) -> str:
    """The separator (',', ';' or tab) that splits the header into 2 or more fields and the most of the
    first rows into as many; on a tie the one that gives more fields, then tab, ';', ','. A decimal comma
    does not fool it: the header has no numbers, so ',' splits it into fewer fields than the rows."""
    sample = text[:_SNIFF_CHARS].lstrip("\r\n").splitlines()
    if len(text) > _SNIFF_CHARS and len(sample) > 1:
        sample = sample[:-1]  # possibly cut short
    lines = [line for line in sample[:_SNIFF_LINES] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in reversed(DELIMITERS):  # tab, ';', ','; a later one must score higher to win
        try:
            rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _empty_message() -> str:
    return f"the file is empty; expected {_ALLOWED}, and at least 2 rows"


def _decode(raw: bytes | str) -> tuple[str, str]:
    """The text of `raw` and the encoding used: UTF-8 (a byte-order mark is dropped), else Windows-1252
    (Excel's 'CSV' on Western Windows), else Latin-1; '' for text given as str."""
    if len(raw) == 0:
        raise ValueError(_empty_message())
    if (b"\x00" if isinstance(raw, bytes) else "\x00") in raw:
        raise ValueError(
            "the file is not text: it contains NUL bytes (is it a spreadsheet such as .xlsx, or UTF-16?); "
            f"expected {_ALLOWED}: save it as 'CSV UTF-8'"
        )
    if isinstance(raw, bytes):
        for codec in ENCODINGS:
            try:
                text = raw.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        encoding = "utf-8" if codec == "utf-8-sig" else codec
    else:
        text, encoding = raw.removeprefix("\ufeff"), ""
    if not text.strip():
        raise ValueError(_empty_message())
    return text, encoding


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
