"""The ``KOMTET_KASSA_*`` configuration keys, their defaults, read once at ``init_app``.

Credentials are not configuration: each cash register row holds its own
shop id, secret and queue id.

=====================================  ==============================  ============================================
Key                                    Default                         Meaning
=====================================  ==============================  ============================================
``KOMTET_KASSA_API_URL``               ``https://kassa.komtet.ru``     KOMTET host (a register may override it)
``KOMTET_KASSA_PUBLIC_URL``            ``None``                        the shop's public base URL, for webhook URLs
``KOMTET_KASSA_URL_PREFIX``            ``/komtet``                     where the webhook blueprint is mounted
``KOMTET_KASSA_DISPATCH``              ``thread``                      ``thread``, ``worker``, ``celery`` or ``sync``
``KOMTET_KASSA_TIMEOUT``               ``(3.05, 10)``                  connect and read timeouts, seconds
``KOMTET_KASSA_MAX_ATTEMPTS``          ``8``                           send attempts before a receipt is ``failed``
``KOMTET_KASSA_RETRY_BASE``            ``2.0``                         first retry delay, seconds (doubles, ±20%)
``KOMTET_KASSA_RETRY_MAX``             ``600``                         longest retry delay, seconds
``KOMTET_KASSA_LEASE``                 ``60``                          seconds a sender owns a claimed receipt
``KOMTET_KASSA_POLL_AFTER``            ``300``                         poll receipts ``sent`` this long without a callback
``KOMTET_KASSA_REGIONS``               ``None``                        region codes → labels (dict, list or callable)
``KOMTET_KASSA_EXTERNAL_ID_PREFIX``    ``None``                        prefix of every external id (e.g. ``shop1-``);
                                                                       ``None``: this database's installation id
``KOMTET_KASSA_ADMIN_CATEGORY``        ``"Онлайн-кассы"``              flask-admin menu category
``KOMTET_KASSA_TIMEZONE``              ``"Europe/Moscow"``             IANA zone of every time shown (admin, CLI)
``KOMTET_KASSA_METRICS_PATH``          ``None``                        Prometheus metrics under ``URL_PREFIX`` (e.g.
                                                                       ``"/metrics"``; extra ``metrics``); ``None``: off
=====================================  ==============================  ============================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigurationError

__all__ = ["DEFAULTS", "DISPATCH_MODES", "PREFIX", "KassaConfig", "load_config"]

PREFIX = "KOMTET_KASSA_"
DISPATCH_MODES = ("thread", "worker", "celery", "sync")

DEFAULTS: dict[str, Any] = {
    "API_URL": "https://kassa.komtet.ru",
    "PUBLIC_URL": None,
    "URL_PREFIX": "/komtet",
    "DISPATCH": "thread",
    "TIMEOUT": (3.05, 10.0),
    "MAX_ATTEMPTS": 8,
    "RETRY_BASE": 2.0,
    "RETRY_MAX": 600.0,
    "LEASE": 60.0,
    "POLL_AFTER": 300.0,
    "REGIONS": None,
    "EXTERNAL_ID_PREFIX": None,
    "ADMIN_CATEGORY": "Онлайн-кассы",
    "TIMEZONE": "Europe/Moscow",
    "METRICS_PATH": None,  # operations (issue 20): see flask_komtet.monitoring
}

#: Region codes and labels: a dict, a list of codes or ``(code, label)`` pairs, or a callable returning one.
RegionList = Mapping[str, str] | Sequence[str | tuple[str, str]]
Regions = RegionList | Callable[[], RegionList] | None


@dataclass(frozen=True)
class KassaConfig:
    """The extension's settings for one app, as read at ``init_app``."""

    api_url: str
    public_url: str | None
    url_prefix: str
    dispatch: str
    timeout: tuple[float, float]
    max_attempts: int
    retry_base: float
    retry_max: float
    lease: float
    poll_after: float
    regions: Regions
    external_id_prefix: str | None
    admin_category: str
    timezone: str = "Europe/Moscow"
    metrics_path: str | None = None

    def region_choices(self) -> list[tuple[str, str]]:
        """``(code, label)`` pairs of the shop's regions, for the admin."""
        regions = self.regions() if callable(self.regions) else self.regions
        if not regions:
            return []
        if isinstance(regions, Mapping):
            return [(str(code), str(label)) for code, label in regions.items()]
        return [(str(r), str(r)) if isinstance(r, str) else (str(r[0]), str(r[1])) for r in regions]


def load_config(config: Mapping[str, Any]) -> KassaConfig:
    """Read every ``KOMTET_KASSA_*`` key (defaults applied) and check the values."""
    values = {name.lower(): config.get(PREFIX + name, default) for name, default in DEFAULTS.items()}
    if values["dispatch"] not in DISPATCH_MODES:
        raise ConfigurationError(
            f"{PREFIX}DISPATCH must be one of {', '.join(DISPATCH_MODES)}, not {values['dispatch']!r}"
        )
    timeout = values["timeout"]
    if isinstance(timeout, (int, float)):
        timeout = (float(timeout), float(timeout))
    values["timeout"] = (float(timeout[0]), float(timeout[1]))
    values["api_url"] = str(values["api_url"]).rstrip("/")
    if values["public_url"]:
        values["public_url"] = str(values["public_url"]).rstrip("/")
    prefix = "/" + str(values["url_prefix"] or "").strip("/")
    values["url_prefix"] = "" if prefix == "/" else prefix
    values["max_attempts"] = int(values["max_attempts"])
    if values["max_attempts"] < 1:
        raise ConfigurationError(f"{PREFIX}MAX_ATTEMPTS must be at least 1")
    prefix_ = values["external_id_prefix"]
    values["external_id_prefix"] = None if prefix_ is None else str(prefix_)
    if values["external_id_prefix"] is not None and len(values["external_id_prefix"]) > 64:
        raise ConfigurationError(f"{PREFIX}EXTERNAL_ID_PREFIX must be at most 64 characters (external ids: 128)")
    try:
        ZoneInfo(str(values["timezone"]))
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigurationError(f"{PREFIX}TIMEZONE: unknown time zone {values['timezone']!r} "
                                 "(an IANA name such as 'Europe/Moscow')") from None
    names = {f.name for f in fields(KassaConfig)}
    return KassaConfig(**{k: v for k, v in values.items() if k in names})
