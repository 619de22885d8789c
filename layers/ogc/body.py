"""An XML POST body, read within the limit of its operation and never past it.

The declared Content-Length is checked before anything is read; the operation is then told from
the root element's name in the first bytes (not parsed: the real parse is xmlsafe's, after this),
and the body read in chunks that stop at the limit. Only a Transaction gets the larger limit; a body
whose root cannot be told this way gets the small one."""

import re

from . import limits
from .exceptions import OWSException

CHUNK = 64 * 1024
# XML declaration, comments and whitespace before the root element; DOCTYPEs are not skipped
# (xmlsafe refuses them), so such a body gets the small limit.
_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?(?:\s|<\?[^>]{0,512}\?>|<!--.{0,4096}?-->)*<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", re.S
)


def content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        raise OWSException("Content-Length is not a number", locator="Content-Length") from None


def _too_large(cap: int, operation: str) -> OWSException:
    return OWSException(
        f"request body larger than {cap} bytes, the limit for {operation}", locator="request", status=413
    )


def check_declared(request, cap: int, operation: str) -> int:
    declared = content_length(request)
    if declared > cap:
        raise _too_large(cap, operation)
    return declared


def root_name(head: bytes) -> str:
    m = _ROOT.match(head)
    return m.group(1).decode("ascii") if m else ""


def operation_limit(operation: str) -> int:
    return limits.limit("MAX_TRANSACTION_BYTES" if operation == "Transaction" else "MAX_REQUEST_BYTES")


def read_xml(request) -> bytes:
    declared = check_declared(
        request, max(operation_limit("Transaction"), operation_limit("")), "Transaction, the largest"
    )
    head = request.read(min(declared, CHUNK))
    operation = root_name(head) or "this request"
    cap = operation_limit(operation)
    if declared > cap:
        raise _too_large(cap, operation)
    parts, size = [head], len(head)
    while size < declared:
        chunk = request.read(min(CHUNK, cap + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            raise _too_large(cap, operation)
    return b"".join(parts)
