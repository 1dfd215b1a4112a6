"""Bytes of a delivered text file -> text, with the encoding detected or declared.

Detection: a UTF-8 BOM or valid UTF-8 -> UTF-8; otherwise Windows-1252. Decoding is always
strict (never lossy): bytes that are invalid in the chosen encoding reject the file.
UTF-16/UTF-32 and NUL bytes are refused with a message saying how to re-save the file.
"""

import codecs

from lmkpi.ingest.errors import FileRejected

_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MAGIC = {
    b"PK\x03\x04": "a zip archive (an .xlsx workbook?)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
    b"%PDF": "a PDF document",
}
_COMPRESSED = {
    b"\x1f\x8b": "gzip-compressed",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
}
_RESAVE = "re-save it as CSV UTF-8 (or Windows-1252) with ';' as separator"
# Signs of UTF-8 text that was decoded as Windows-1252 and encoded again ("Ã¦" for "æ").
_MOJIBAKE = ("Ã¦", "Ã¸", "Ã¥", "Ã†", "Ã˜", "Ã…")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(
    data: bytes, file_name: str, encoding: str | None = None
) -> tuple[str, str, list[str]]:
    """Return (text without BOM, encoding used, warnings). Raise FileRejected if not text."""
    if not data or data.isspace():
        raise FileRejected(file_name, "empty_file", "the file is empty; deliver the extract again")
    for magic, what in _COMPRESSED.items():
        if data.startswith(magic):
            raise FileRejected(
                file_name,
                "compressed",
                f"the file is {what}, not a CSV text file: unpack it and deliver the CSV itself",
            )
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise FileRejected(
                file_name, "wrong_format", f"the file is {what}, not a CSV text file; {_RESAVE}"
            )
    if data.startswith(_UTF16_BOMS) or b"\x00" in data:
        what = "UTF-16/UTF-32 text" if data.startswith(_UTF16_BOMS) else "NUL bytes"
        if not data.startswith(_UTF16_BOMS):
            zero_share = data[:4096].count(b"\x00") / min(len(data), 4096)
            if zero_share > 0.3:
                what = "UTF-16 text (NUL bytes between the characters)"
        line = _line_of(data, max(data.find(b"\x00"), 0))
        raise FileRejected(
            file_name, "unsupported_encoding", f"the file contains {what} (line {line}); {_RESAVE}"
        )

    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise FileRejected(
                file_name, "undecodable", f"unknown encoding {encoding!r} was declared"
            ) from None
        if name.startswith(("utf-16", "utf-32")):
            raise FileRejected(file_name, "unsupported_encoding", f"{name} is not accepted")
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        candidates = [name]
    elif data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "cp1252"]

    error: UnicodeDecodeError | None = None
    for name in candidates:
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            error = exc  # the last candidate's error says where detection gave up
            continue
        warnings = []
        if "Ã" in text and any(m in text for m in _MOJIBAKE):
            warnings.append(
                "the text looks double-encoded ('Ã¸' where 'ø' was meant); check the export"
            )
        return text, name, warnings
    assert error is not None
    line = _line_of(data, error.start)
    if encoding is not None:
        hint = "check the declared encoding"
        if candidates[0].startswith("utf-8") and _decodes(data, "cp1252"):
            hint = "it looks like Windows-1252; deliver UTF-8 or declare encoding=cp1252"
        message = f"byte {error.start} (line {line}) is not valid {candidates[0]}: {hint}"
    else:
        message = (
            f"byte {error.start} (line {line}) is neither valid UTF-8 nor Windows-1252; {_RESAVE}"
        )
    raise FileRejected(file_name, "undecodable", message)
