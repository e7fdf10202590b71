"""Moderator actions and the audit log that records every one of them.

``init_app`` gives every template ``site_brand()``: the site's name and logo from
/admin/settings (cached, so the header costs no query per page; read once a request)."""

from flask import Flask, g, has_request_context


def site_brand() -> dict[str, str]:
    from .service import brand

    if not has_request_context():
        return brand()
    if "plaza_brand" not in g:
        g.plaza_brand = brand()
    return g.plaza_brand


def init_app(app: Flask) -> None:
    app.add_template_global(site_brand, "site_brand")
