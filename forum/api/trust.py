"""Trust endpoints (shared/API.md, Trust and moderation): the rules table."""

from flask_login import current_user

from ..trust import service
from ..trust.schemas import TrustRulesBody, rules_changes
from . import bp
from .core import endpoint
from .responses.trust import TrustRules


@endpoint(bp, "/admin/trust-rules", "GET", auth="admin", tag="trust", response=TrustRules)
def get_trust_rules():
    """The trust level rules: what each of levels 1-3 requires"""
    return service.rules_json()


@endpoint(
    bp,
    "/admin/trust-rules",
    "PUT",
    auth="admin",
    body=TrustRulesBody,
    tag="trust",
    response=TrustRules,
)
def put_trust_rules(data: TrustRulesBody):
    """Change some trust level requirements; later evaluations use them"""
    return service.rules_json(
        service.update_rules(current_user._get_current_object(), rules_changes(data))
    )
