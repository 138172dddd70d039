"""CSV the way spreadsheets write it, and cells no spreadsheet runs as a formula.

Reading: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"),
else Windows-1251 (what Russian-locale Excel saves as "CSV"); comma, semicolon (Excel where
the decimal sign is a comma) or tab, whichever the header line uses most; a decimal comma in
a number ("41,12") is a decimal point.

Writing: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would run as a formula when the file is opened in Excel or LibreOffice (formula injection).
It is written with a leading ``'``, which spreadsheets show as text; reading takes the ``'``
off again, so export and import round-trip. Numbers are left as they are (``-12.5`` stays a
number).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decimal_point", "decode", "delimiter", "neutralise", "restore"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_DELIMITERS = (",", ";", "\t")


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), UTF-16 with a BOM, or else Windows-1251.

    Raises UnicodeDecodeError when it is none of them.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")  # Excel's "Unicode text"
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def delimiter(text: str) -> str:
    """The separator the header line (the first line) uses most; comma when none."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)  # the first, comma, on a tie


def decimal_point(cell: str) -> str:
    """``41,12`` as ``41.12``; anything else unchanged."""
    return cell.replace(",", ".") if _DECIMAL_COMMA.fullmatch(cell) else cell


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run (numbers stay numbers)."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """Undo `neutralise`: a ``'`` before a formula character is taken off."""
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell
