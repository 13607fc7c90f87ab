"""An .xlsx file checked as a zip before any reader opens it: its sizes (a zip bomb is
refused unread) and the prolog of every part a parser will read (a DTD, which may
declare entities, is refused before any parser sees it).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from reconciler.runtime.errors import TenantUnreachable

MAX_FILE_BYTES = 64 * 1024 * 1024
#: what the zip may unpack to in all, and how much one member may grow by
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
#: An OOXML part's prolog (XML declaration, comments) is tiny; a DOCTYPE, the only place
#: entities are declared, must come in it, before the first element.
MAX_PROLOG_BYTES = 64 * 1024
_PARSED_PARTS = (".xml", ".rels", ".vml")


class SpreadsheetError(TenantUnreachable):
    """The file cannot be read as a List Download; says where and what to do."""


def check_zip(path: Path) -> None:
    """Sizes first (a zip bomb is refused unread), then each part a parser will read
    for a DTD: one opening of the archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _refuse_bombs(path, members)
            for member in members:
                if member.filename.lower().endswith(_PARSED_PARTS):
                    _refuse_doctype(path, archive, member.filename)
    except zipfile.BadZipFile as error:
        raise SpreadsheetError(f"{path} is not an .xlsx spreadsheet (not a zip archive); "
                               "download it again from the portal") from error
    except (OSError, RuntimeError) as error:  # RuntimeError: an encrypted part
        raise SpreadsheetError(f"{path} is not a readable .xlsx spreadsheet ({error}); "
                               "download it again from the portal") from error


def _refuse_bombs(path: Path, members: list[zipfile.ZipInfo]) -> None:
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > MAX_UNPACKED_BYTES or (member.file_size > 1024 * 1024 and
                                          ratio > MAX_RATIO):
            raise SpreadsheetError(
                f"{path} unpacks to more than a List Download can hold ({member.filename}: "
                f"{member.file_size:,} bytes from {member.compress_size:,}); refusing it as "
                f"a possible zip bomb (limits: {MAX_UNPACKED_BYTES:,} bytes in all, "
                f"{MAX_RATIO}x per part)")


def _refuse_doctype(path: Path, archive: zipfile.ZipFile, part: str) -> None:
    """A spreadsheet never declares a DTD; one that does may define entities (a billion
    laughs, or an external file read into a cell): refused before any parser sees it."""
    with archive.open(part) as xml:
        head = xml.read(MAX_PROLOG_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\0" in head[:4]:
        raise SpreadsheetError(f"{path}: part {part} is not UTF-8 XML, as a spreadsheet's "
                               "parts are; download the file again from the portal")
    at = 0
    while True:
        at = head.find(b"<", at)
        if at < 0 or at + 1 >= len(head):
            if len(head) == MAX_PROLOG_BYTES:
                raise SpreadsheetError(f"{path}: part {part} opens with over "
                                       f"{MAX_PROLOG_BYTES:,} bytes before its first "
                                       "element; download the file again from the portal")
            return
        if head.startswith(b"<!DOCTYPE", at) or head.startswith(b"<!ENTITY", at):
            raise SpreadsheetError(
                f"{path}: part {part} declares a DTD (entities), which no spreadsheet "
                "program writes; refusing the file (download it again from the portal)")
        if head.startswith(b"<?", at):
            end = head.find(b"?>", at)
        elif head.startswith(b"<!--", at):
            end = head.find(b"-->", at)
        else:
            return  # the first element: the prolog is over, and held no DTD
        if end < 0:
            at = len(head)
            continue
        at = end + 2
