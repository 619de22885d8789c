"""Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a check character."""

from django.core.exceptions import ValidationError

from gis_core.text import is_ascii_digits

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    """The reason a code is not a valid USCC, or None."""
    if not isinstance(code, str) or len(code) != 18:
        return "must be 18 characters"
    if any(c not in ALPHABET for c in code):
        return "contains characters outside 0-9 and A-Y (without I, O, S, V, Z)"
    if not is_ascii_digits(code[2:8]):
        return "characters 3-8 must be the administrative division code"
    if check_char(code[:17]) != code[17]:
        return f"check character should be {check_char(code[:17])}"
    return None


def validate_uscc(code: str) -> None:
    reason = uscc_error(code)
    if reason:
        raise ValidationError(f"invalid unified social credit code {code!r}: {reason}", code="invalid_uscc")


def make_uscc(prefix17: str) -> str:
    """Completes 17 characters with their check character (used by the demo city and tests)."""
    return prefix17 + check_char(prefix17)
