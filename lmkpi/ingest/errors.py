"""Whole-file rejection and the guard that keeps person numbers out of messages."""

import re

from lmkpi.errors import DeliveryError

# Anything that could be a CPR number: 6 digits, optional separator, 4 digits, or any run of
# 9+ digits. Used to mask text (header names, file names) before it goes into a message.
CPR_LIKE = r"\d{6}[- ]?\d{4}|\d{9,}"
# A CPR number typed into a stored text value: DDMMYY (a possible day and month), optional
# '-' or space, 4 digits, not part of a longer run of digits (so an id like JL000000025 is
# not one). Group 1 and 3 are the characters around it, kept when it is masked.
CPR_IN_TEXT = (
    r"(^|[^0-9])((?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}[- ]?[0-9]{4})([^0-9]|$)"
)
_CPR_LIKE = re.compile(CPR_LIKE)
_MAX_SHOWN = 40


def safe_text(value: object, max_length: int = _MAX_SHOWN, *, quote: bool = True) -> str:
    """`value` as a short (quoted) string that never shows a CPR-like digit run."""
    text = _CPR_LIKE.sub("<digits hidden>", str(value))
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > max_length:
        text = text[: max_length - 3] + "..."
    return repr(text) if quote else text


# A delivered header name is shown in a message only if it looks like a column name: short,
# starting with a letter, letters/digits/_ . - space only. Anything else (a secret someone
# saved under a delivery's name, a data row, free text) is not echoed. A pseudonym key is at
# least 32 characters, so it can never look like one.
_COLUMN_NAME = re.compile(r"[^\W\d_][\w .-]{0,29}")


def column_label(name: object) -> str:
    """A header name for a message: quoted if it looks like a column name, else withheld."""
    text = str(name)
    if _COLUMN_NAME.fullmatch(text) and not _CPR_LIKE.search(text):
        return repr(text)
    return "(a column name that is not shown)"


class FileRejected(DeliveryError):
    """The whole file is refused; nothing from it may be loaded.

    `rule` is a code from `lmkpi.contracts.FILE_RULES`; `message` says what is wrong and what
    to do; `str(e)` is "<file name>: <message>". Never holds a CPR number or free text.
    """

    def __init__(self, file_name: str, rule: str, message: str) -> None:
        super().__init__(f"{file_name}: {message}")
        self.file_name = file_name
        self.rule = rule
        self.message = message

    def __reduce__(self):  # keep pickling (multiprocess executors) working
        return (type(self), (self.file_name, self.rule, self.message))
