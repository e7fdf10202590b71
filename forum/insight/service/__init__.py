"""Insight: what works in the community and the shop, measured in SQL.

The front of the ``service/`` package: ``health`` (community health for admins),
``evaluation`` (one promotion's lift, cost and ROI), ``rollup`` (every promotion of a
merchant, or of every merchant, side by side) and ``exposures`` (who saw which widget);
callers import from here. Other features are read only through their service fronts.
"""

from .evaluation import evaluate, promotions_list  # noqa: F401
from .export import admin_rollup_csv, rollup_csv, to_csv  # noqa: F401
from .exposures import WIDGET_KINDS, record_sights  # noqa: F401
from .exposures import collect as collect_exposures  # noqa: F401
from .exposures import flush as flush_exposures  # noqa: F401
from .health import (  # noqa: F401
    ACTIVE_DEFINITION,
    MAX_DAYS,
    community_health,
    parse_range,
    report,
)
from .rollup import admin_rollup, merchant_rollup  # noqa: F401
from .subjects import KINDS as PROMOTION_KINDS  # noqa: F401
from .subjects import BadRequest  # noqa: F401
