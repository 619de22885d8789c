"""The one exception the readers raise, and the scrubbing of what an answer may say about files."""

import re


class FileProblem(Exception):
    """The file as a whole cannot be read: `field` is the option or column at fault (or None)."""

    def __init__(self, reason: str, field: str | None = None, row: int | None = None):
        self.reason, self.field, self.row = reason, field, row
        super().__init__(reason)


# An absolute path (two segments at least, not inside a word or a date like 2024/01/01): GDAL and
# the OS name the server's files in their messages; an answer names only the last part.
_ABS_PATH = re.compile(r"(?<![\w./])(?:/[^/\s'\"`:,;()\[\]{}]+)+/([^/\s'\"`:,;()\[\]{}]+)")


def no_paths(text, *, replace: dict[str, str] | None = None) -> str:
    """Text for an answer: the given strings replaced (e.g. the upload's path by its original name),
    NUL characters dropped (PostgreSQL text cannot hold them) and any other absolute path cut to its
    last part."""
    text = str(text)
    for old, new in sorted((replace or {}).items(), key=lambda kv: -len(kv[0])):
        if old:
            text = text.replace(old, new)
    return _ABS_PATH.sub(lambda m: m.group(1), text.replace("\x00", ""))
