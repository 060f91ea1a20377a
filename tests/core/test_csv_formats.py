"""CSV files as spreadsheets and pandas really write them (issue "Defects found by using the dashboard",
items 7-11): decimal commas and thousands separators, tab-separated files, Excel's `sep=` line, Windows-1252
and Latin-1 text, constant and index columns. Every CSV here is the bytes such a program writes.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import gdcore
from gdcore.csv_input import CsvPreview


def raises(match: str):
    """pytest.raises(ValueError) matching `match` literally (messages contain brackets and dots)."""
    return pytest.raises(ValueError, match=re.escape(match))


def values(preview: CsvPreview, column: str) -> list:
    return preview.head[column].tolist()


# ---------------------------------------------------------------------------------------------------
# 7. decimal commas, thousands separators, columns that cannot be read as numbers

# German Excel, "CSV UTF-8 (durch Trennzeichen getrennt)": ';' between fields, decimal comma, CRLF.
EUROPEAN = (
    b"Wohnfl\xc3\xa4che;Zimmer;Baujahr;Preis\r\n"
    b"141,9;4;1998;369,5\r\n80,25;3;2005;240\r\n65;2;1971;170,25\r\n"
)


def test_semicolon_file_with_decimal_comma_is_read_as_numbers():
    preview = gdcore.inspect_csv(EUROPEAN)
    assert preview.numeric_columns == ("Wohnfläche", "Zimmer", "Baujahr", "Preis")
    assert (preview.delimiter, preview.decimal, preview.thousands) == (";", ",", "")
    assert preview.format_note == "UTF-8, separator ';', decimal comma"
    assert preview.notes == () and preview.text_columns == {}
    assert values(preview, "Wohnfläche") == [141.9, 80.25, 65.0]
    data = gdcore.read_csv(EUROPEAN)
    assert data.feature_names == ("Wohnfläche", "Zimmer", "Baujahr") and data.target_name == "Preis"
    np.testing.assert_array_equal(data.X[:, 0], [141.9, 80.25, 65.0])
    np.testing.assert_array_equal(data.y, [369.5, 240.0, 170.25])


def test_decimal_comma_with_dots_between_thousands():
    csv = b"Fl\xc3\xa4che;Preis\n141,9;1.369.500,50\n80;240.000\n65,5;1.170,25\n"
    preview = gdcore.inspect_csv(csv)
    assert (preview.decimal, preview.thousands) == (",", ".")
    assert preview.format_note == "UTF-8, separator ';', decimal comma, '.' between thousands (1.234)"
    np.testing.assert_array_equal(gdcore.read_csv(csv).y, [1369500.5, 240000.0, 1170.25])


def test_quoted_thousands_in_a_comma_separated_file_are_numbers():
    # US Excel with "Use 1000 separator": the formatted numbers are quoted because they hold the separator.
    csv = b'sqft,beds,price\n1250,3,"369,658"\n"2,100",4,"1,240,000.50"\n980,2,215000\n'
    preview = gdcore.inspect_csv(csv)
    assert preview.numeric_columns == ("sqft", "beds", "price")
    assert (preview.decimal, preview.thousands) == (".", ",")
    assert preview.format_note == "UTF-8, separator ',', decimal point, ',' between thousands (1,234)"
    data = gdcore.read_csv(csv)
    np.testing.assert_array_equal(data.X[:, 0], [1250, 2100, 980])
    np.testing.assert_array_equal(data.y, [369658, 1240000.5, 215000])


def test_a_cell_that_is_no_number_in_the_detected_format_is_not_misread():
    # pandas with thousands=',' would read "1,5" as 15; the column is named instead.
    csv = b'sqft,rate,price\n"1,250","1,5","369,658.00"\n"2,100","2,25","1,240,000.50"\n980,3,215000\n'
    preview = gdcore.inspect_csv(csv)
    assert preview.thousands == "," and preview.numeric_columns == ("sqft", "price")
    assert preview.text_columns["rate"] == (
        "column 'rate' has numbers written as '1,5', '2,25' in data rows 1, 2, which do not match this "
        "file's number format (decimal point, ',' between thousands (1,234)): it is not read as numbers, "
        "so it is not offered as target or feature; write every number in the file with the same decimal mark"
    )
    assert preview.notes == (preview.text_columns["rate"],)


def test_a_column_with_some_text_is_named_with_the_rows_and_values():
    csv = b"rooms,price,age\n3,369500,12\n2,?,30\n4,410000,5\n3,unknown,8\n2,199000,41\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.numeric_columns == ("rooms", "age")
    reason = (
        "column 'price' has text values such as '?', 'unknown' in data rows 2, 4 (2 of 5 filled cells): "
        "it is not read as numbers, so it is not offered as target or feature; replace those cells with "
        "numbers, or leave them empty"
    )
    assert preview.text_columns == {"price": reason}
    assert preview.notes == (reason,)
    # read_csv with the defaults says what it left out ...
    data = gdcore.read_csv(csv)
    assert data.feature_names == ("rooms",) and data.target_name == "age"
    assert data.notes == (reason,)
    # ... and choosing the column says which cell is wrong.
    with raises(
        "target column 'price' is not numeric (data row 2 holds '?'; numbers use '.' as decimal point)"
    ):
        gdcore.read_csv(csv, target="price")


def test_an_error_for_too_few_numeric_columns_names_the_column_that_holds_text():
    csv = b"price;area\n369,5;141,9\n240;n. a.\n170,25;65\n"
    with raises(
        "the file has only one numeric column ('price'), the target; at least one more numeric column is "
        "needed as a feature; column 'area' has text values such as 'n. a.' in data row 2 (1 of 3 filled "
        "cells): it is not read as numbers"
    ):
        gdcore.read_csv(csv)


def test_no_numeric_column_names_the_format_and_the_columns_that_are_nearly_numbers():
    csv = b"area,price\n141.9,-\n80,240000\n-,170000\n"
    with raises(
        "no column of the file is numeric (columns: 'area', 'price'); gradient descent needs numbers: a "
        "numeric target column and at least one numeric feature column, with '.' or ',' as decimal point "
        "(the file was read as UTF-8, separator ',', decimal point); column 'area' has text values such as "
        "'-' in data row 3 (1 of 3 filled cells)"
    ):
        gdcore.inspect_csv(csv)


def test_mixed_decimal_marks_in_one_file_are_reported_not_guessed():
    csv = b"a;b;y\n1,5;2.5;3\n2,5;1.5;5\n3,5;5.5;4\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.numeric_columns == ("b", "y")
    assert preview.text_columns["a"].startswith(
        "column 'a' has numbers written as '1,5', '2,5', '3,5' in data rows 1, 2, 3, which do not match "
        "this file's number format (decimal point)"
    )


def test_text_columns_are_listed_in_the_notes_too():
    csv = b"name,flag,empty,x,y\nann,True,,1,3\nbob,False,,2,5\ncy,True,,3,4\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.numeric_columns == ("x", "y")
    assert preview.notes == (
        "not offered as target or feature: column 'name' holds text such as 'ann', 'bob', 'cy', not numbers; "
        "column 'flag' holds true/false values, not numbers; column 'empty' is empty",
    )


def test_a_plain_file_is_described_as_such():
    preview = gdcore.inspect_csv(b"a,b,y\n1.5,2,3\n2,1,5\n3,5,4\n")
    assert (preview.encoding, preview.delimiter, preview.decimal, preview.thousands) == (
        "utf-8",
        ",",
        ".",
        "",
    )
    assert preview.format_note == "UTF-8, separator ',', decimal point"
    assert preview.notes == () and preview.index_columns == () and preview.text_columns == {}
    # text given as str has no encoding to report
    assert gdcore.inspect_csv(io.StringIO("a;y\n1,5;2\n2;3\n")).format_note == "separator ';', decimal comma"


# ---------------------------------------------------------------------------------------------------
# 8. tab-separated files


def test_tab_separated_file_with_commas_in_the_text():
    # A .tsv export: a comma in the header and in every row must not be taken for the separator.
    tsv = b"city, country\tarea\tprice\nOslo, NO\t50.5\t150\nRome, IT\t80\t240\nParis, FR\t65\t170\n"
    preview = gdcore.inspect_csv(tsv)
    assert preview.delimiter == "\t" and preview.columns == ("city, country", "area", "price")
    assert preview.numeric_columns == ("area", "price")
    assert preview.format_note == "UTF-8, separator tab, decimal point"
    data = gdcore.read_csv(tsv)
    np.testing.assert_array_equal(data.X[:, 0], [50.5, 80, 65])


def test_tab_separated_file_with_decimal_comma():
    tsv = "Größe\tZimmer\tPreis\r\n50,5\t2\t150,25\r\n80\t3\t240\r\n65,25\t2\t170\r\n".encode("cp1252")
    preview = gdcore.inspect_csv(io.BytesIO(tsv))
    assert preview.numeric_columns == ("Größe", "Zimmer", "Preis")
    assert preview.format_note == "Windows-1252 (not UTF-8), separator tab, decimal comma"
    np.testing.assert_array_equal(gdcore.read_csv(tsv).y, [150.25, 240, 170])


# ---------------------------------------------------------------------------------------------------
# 9. Excel's sep= first line


@pytest.mark.parametrize(
    ("csv", "delimiter", "note"),
    [
        (b"sep=;\r\na;b;y\r\n1,5;2;3\r\n2;1;5\r\n3;5;4\r\n", ";", "decimal comma"),
        (b"sep=,\na,b,y\n1.5,2,3\n2,1,5\n3,5,4\n", ",", "decimal point"),
        (b"sep=\t\na\tb\ty\n1.5\t2\t3\n2\t1\t5\n3\t5\t4\n", "\t", "decimal point"),
        (b'"sep=;"\na;b;y\n1,5;2;3\n2;1;5\n3;5;4\n', ";", "decimal comma"),
        (b"\xef\xbb\xbfsep=|\na|b|y\n1.5|2|3\n2|1|5\n3|5|4\n", "|", "decimal point"),
    ],
)
def test_the_sep_line_sets_the_separator_and_is_skipped(csv, delimiter, note):
    preview = gdcore.inspect_csv(csv)
    assert preview.delimiter == delimiter and preview.columns == ("a", "b", "y")
    assert "(from the file's 'sep=' line)" in preview.format_note and preview.format_note.endswith(note)
    data = gdcore.read_csv(csv)
    np.testing.assert_array_equal(data.X, [[1.5, 2], [2, 1], [3, 5]])
    np.testing.assert_array_equal(data.y, [3, 5, 4])


def test_a_sep_line_and_nothing_else_is_an_empty_file():
    with raises("the file is empty"):
        gdcore.inspect_csv(b"sep=;\r\n")


# ---------------------------------------------------------------------------------------------------
# 10. Windows-1252 and Latin-1 text


def test_windows_1252_file_is_read_and_says_so():
    csv = "température;Größe;Preis €\n21,5;3;1250\n19;4;980,5\n23,25;2;1100\n".encode("cp1252")
    preview = gdcore.inspect_csv(csv)
    assert preview.encoding == "cp1252"
    assert preview.columns == ("température", "Größe", "Preis €")
    assert preview.numeric_columns == preview.columns
    assert preview.format_note == "Windows-1252 (not UTF-8), separator ';', decimal comma"
    np.testing.assert_array_equal(gdcore.read_csv(csv).X[:, 0], [21.5, 19, 23.25])


def test_text_cells_in_windows_1252_keep_their_letters():
    csv = "Stadt,Fläche,Preis\nKöln,50,150\nMünchen,80,240\nDüsseldorf,65,170\n".encode("cp1252")
    preview = gdcore.inspect_csv(csv)
    assert values(preview, "Stadt") == ["Köln", "München", "Düsseldorf"]
    assert (
        preview.text_columns["Stadt"]
        == "column 'Stadt' holds text such as 'Köln', 'München', 'Düsseldorf', not numbers"
    )


def test_latin1_bytes_that_windows_1252_leaves_undefined_are_read_as_latin1():
    csv = b"size,caf\xe9 \x81,y\n1,2,3\n2,1,5\n3,5,4\n"  # 0x81 has no character in Windows-1252
    preview = gdcore.inspect_csv(csv)
    assert preview.encoding == "latin-1" and preview.columns == ("size", "café \x81", "y")
    assert preview.format_note.startswith("Latin-1 (not UTF-8), ")


def test_utf8_with_and_without_bom_is_utf8():
    for csv in ("Größe,y\n1,2\n3,4\n".encode(), "\ufeffGröße,y\n1,2\n3,4\n".encode()):
        preview = gdcore.inspect_csv(csv)
        assert preview.encoding == "utf-8" and preview.columns == ("Größe", "y")
        assert preview.format_note.startswith("UTF-8, ")


def test_utf16_is_still_refused_with_advice():
    with raises(
        "the file is not text: it contains NUL bytes (is it a spreadsheet such as .xlsx, or UTF-16?)"
    ):
        gdcore.inspect_csv("Größe,y\n1,2\n3,4\n".encode("utf-16"))


# ---------------------------------------------------------------------------------------------------
# 11. default target and features: constant columns, index columns


def test_a_constant_last_column_is_not_the_default_target():
    csv = b"area,rooms,price,currency_rate\n50,2,150,1\n80,3,240,1\n65,2,170,1\n120,4,380,1\n"
    preview = gdcore.inspect_csv(csv)
    assert preview.constant_columns == ("currency_rate",)
    assert preview.default_target == "price"
    assert gdcore.read_csv(csv, features=["area", "rooms"]).target_name == "price"


def test_every_column_constant_falls_back_to_the_last_one():
    assert gdcore.inspect_csv(b"a,b\n1,2\n1,2\n").default_target == "b"


@pytest.mark.parametrize(
    "header",
    [
        b"",  # df.to_csv() writes an empty header cell over the index
        b"Unnamed: 0",  # a file read without index_col=0 and written again
        b"index",  # df.reset_index().to_csv(index=False)
    ],
)
def test_a_pandas_index_column_is_not_preselected_and_a_note_says_so(header):
    csv = header + b",area,rooms,price\n0,50,2,150\n1,80,3,240\n2,65,2,170\n3,120,4,380\n"
    preview = gdcore.inspect_csv(csv)
    name = preview.columns[0]
    assert name == (header.decode() or "column 1")
    assert name in preview.numeric_columns and preview.index_columns == (name,)
    assert preview.default_target == "price" and preview.default_features == ("area", "rooms")
    note = (
        f"{name!r} looks like a row index saved with the data (no column name or 'index', whole numbers "
        "counting up), so it is not preselected as a feature; choose it if it is real data"
    )
    assert preview.notes == (note,)
    data = gdcore.read_csv(csv)
    assert data.feature_names == ("area", "rooms") and data.notes == (note,)
    assert gdcore.read_csv(csv, features=[name, "area"]).feature_names == (name, "area")  # still choosable


def test_an_index_after_filtering_rows_has_gaps_and_is_still_an_index():
    csv = b",x,y\n3,1.5,2\n7,2.5,3\n8,0.5,1\n12,4,6\n"
    assert gdcore.inspect_csv(csv).index_columns == ("column 1",)


@pytest.mark.parametrize(
    "csv",
    [
        b"id,x,y\n1,1.5,2\n2,2.5,3\n3,0.5,1\n",  # a named column is data, even if it counts
        b",x,y\n5,1.5,2\n3,2.5,3\n9,0.5,1\n",  # no name, but not counting up
        b",x,y\n0.5,1.5,2\n1.5,2.5,3\n2.5,0.5,1\n",  # no name, not whole numbers
        b"index,x,y\n0,1.5,2\n2,2.5,3\n5,0.5,1\n",  # 'index' that is not 0..N-1
    ],
)
def test_columns_that_are_not_an_index_stay_preselected(csv):
    preview = gdcore.inspect_csv(csv)
    assert preview.index_columns == () and preview.notes == ()
    assert preview.default_features == (preview.columns[0], "x")


def test_an_index_as_the_only_other_numeric_column_asks_for_features():
    with raises(
        "besides the target 'y' the only numeric column 'column 1' looks like a row index, not used by "
        "default; pass features=[...] to use it anyway"
    ):
        gdcore.read_csv(b",y\n0,3\n1,5\n2,4\n")
    assert gdcore.inspect_csv(b",y\n0,3\n1,5\n2,4\n").default_features == ()
