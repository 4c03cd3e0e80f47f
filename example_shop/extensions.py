"""The shop's extension objects, created once and bound to each app in :func:`example_shop.create_app`."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa

db = SQLAlchemy()
kassa = KomtetKassa()
