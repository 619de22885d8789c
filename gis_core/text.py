"""Small checks on client text shared by every edge."""


def is_ascii_digits(s: str) -> bool:
    """0-9 only: str.isdigit() also accepts superscripts and other scripts' digits, which int() refuses
    or reads differently."""
    return s.isascii() and s.isdigit()
