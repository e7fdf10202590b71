"""Insight: what works in the community and the shop, measured in SQL.

The front of the ``service/`` package: ``health`` (community health for admins) and
``evaluation`` (promotion lift, cost and ROI); callers import from here. Other features
are read only through their service fronts.
"""

from .evaluation import (  # noqa: F401
    KINDS as PROMOTION_KINDS,
)
from .evaluation import (  # noqa: F401
    BadRequest,
    evaluate,
    promotions_list,
    to_csv,
)
from .evaluation import collect as collect_exposures  # noqa: F401
from .evaluation import flush as flush_exposures  # noqa: F401
from .health import (  # noqa: F401
    ACTIVE_DEFINITION,
    MAX_DAYS,
    community_health,
    parse_range,
    report,
)
from .rollup import merchant_rollup  # noqa: F401
