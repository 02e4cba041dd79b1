"""The S3-Rec / E4SRec / ICLRec sequence text format, and its item text files.

One user per line, ``user item1 item2 ...``, fields separated by spaces (any run of
spaces or tabs); ids are tokens (letters, digits and ``_ - . : / # @ +``). There are no
timestamps: the order on the line is the time order, and a user appears on one line only.

Item text comes from an optional second file in one of two layouts:

* ``item<TAB>title`` per line (the title may contain spaces);
* an E4SRec / KGAT item list: a header ``org_id remap_id``, then ``ORIGINAL TOKEN`` per
  line, where TOKEN is the id used in the sequences file; the item's text is its original
  id (an ASIN, say), since these lists carry no titles.
"""

from __future__ import annotations

import re

import numpy as np

from engine.data.errors import DataError
from engine.data.interactions import Interactions, interactions_from_lists
from engine.data.items import ItemText
from engine.data.sources import DataSource, decode_text

TOKEN = re.compile(r"[\w.:/#@+-]+")
ITEM_LIST_HEADER = ("org_id", "remap_id")


def read_sequences(source: DataSource, raw: bytes) -> Interactions:
    """Every line's items in file order; duplicate users, empty lines and bad ids name their line."""
    lines = _lines(source, raw, "one line per user: user item1 item2 ...")
    users: list[str] = []
    items: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            raise DataError(source.label, "a user and their items (no empty lines)", value=line, line=number)
        for field in fields:
            if not TOKEN.fullmatch(field):
                hint = "; the line looks comma-separated" if "," in field else ""
                raise DataError(
                    source.label,
                    f"space-separated id tokens (letters, digits, _ - . : / # @ +){hint}",
                    value=field[:120],
                    line=number,
                )
        user = fields[0]
        if len(fields) < 2:
            raise DataError(source.label, "at least one item after the user id", value=line[:120], line=number)
        if user in first_line:
            raise DataError(
                source.label,
                f"each user on one line (user {user!r} is already on line {first_line[user]})",
                value=user,
                line=number,
            )
        first_line[user] = number
        users.extend([user] * (len(fields) - 1))
        items.extend(fields[1:])
    return interactions_from_lists(users, items, np.zeros(len(items), dtype=np.float64), None, timed=False)


def read_item_text(source: DataSource, raw: bytes) -> ItemText:
    """``item<TAB>title`` lines, or an E4SRec item list (``org_id remap_id`` header)."""
    lines = _lines(source, raw, "item<TAB>title lines or an 'org_id remap_id' item list")
    text: dict[str, str] = {}
    item_list = tuple(lines[0].split()) == ITEM_LIST_HEADER
    start = 2 if item_list else 1
    for number, line in enumerate(lines[start - 1 :], start=start):
        if item_list:
            fields = line.split()
            if len(fields) != 2:
                raise DataError(source.label, "two fields: org_id remap_id", value=line[:120], line=number)
            item, title = fields[1], fields[0]
        else:
            item, tab, title = line.partition("\t")
            item = item.strip()
            if not tab or not item:
                raise DataError(source.label, "item<TAB>title", value=line[:120], line=number)
        if item in text:
            raise DataError(source.label, "each item id listed once", value=item, line=number)
        text[item] = title.strip()
    return ItemText(text, {})


def _lines(source: DataSource, raw: bytes, what: str) -> list[str]:
    text = decode_text(source, raw).rstrip("\n")
    if not text.strip():
        raise DataError(source.label, what, value="(empty file)")
    return text.split("\n")
