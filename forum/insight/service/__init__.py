"""Insight: what works in the community and the shop, measured in SQL.

The front of the ``service/`` package: ``health`` (community health for admins);
callers import from here. Other features are read only through their service fronts.
"""

from .health import (  # noqa: F401
    ACTIVE_DEFINITION,
    MAX_DAYS,
    community_health,
    parse_range,
    report,
)
