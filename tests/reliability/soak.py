"""How many rounds the fault tests run: a few in `make test`, the full count under `make soak`."""

import os


def rounds(quick: int, soak: int) -> int:
    """`quick` normally; `soak` when GRIDCITY_SOAK is set (make soak); GRIDCITY_SOAK_ROUNDS overrides both."""
    if os.environ.get("GRIDCITY_SOAK_ROUNDS"):
        return int(os.environ["GRIDCITY_SOAK_ROUNDS"])
    return soak if os.environ.get("GRIDCITY_SOAK") == "1" else quick
