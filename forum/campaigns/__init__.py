"""Segments, email and SMS campaigns, account and notification email."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from .service import on_notification, on_order_changed
    from .service.segments import answer_in_segment, answer_segment_names

    signals.notification_created.connect(on_notification)
    signals.order_changed.connect(on_order_changed)
    # Members asks whether a member is in a segment (a coupon's audience) and for names.
    signals.in_segment.connect(answer_in_segment, sender="segment")
    signals.segment_names.connect(answer_segment_names, sender="segment")
    app.add_template_filter(linkify_plain)
    from .inbound import campaigns_cli

    app.cli.add_command(campaigns_cli)


def linkify_plain(text: str):
    """Plain text (escaped) with its http(s) URLs as links: the development outbox."""
    import re

    from markupsafe import Markup, escape

    pattern = re.compile(r"https?://[^\s<>\"']+")
    out, last = [], 0
    for match in pattern.finditer(text or ""):
        out.append(str(escape(text[last : match.start()])))
        url = match.group(0)
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = match.end()
    out.append(str(escape((text or "")[last:])))
    return Markup("".join(out))  # noqa: S704 (every piece escaped above)
