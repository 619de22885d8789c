"""The one write path for components: REST, admin, imports and tasks all call these."""

from ..validation import ServiceError  # noqa: F401
from .components import (  # noqa: F401
    change_state,
    create_component,
    retire_component,
    transfer_ownership,
    update_component,
)
from .grid_codes import assign_grid_codes  # noqa: F401,E402
from .organisations import upsert_organisation  # noqa: F401,E402
from .photos import add_photo  # noqa: F401,E402
