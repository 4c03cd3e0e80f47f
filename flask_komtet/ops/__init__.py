"""Operations: what the shop owner watches (service layer, shared by «Сводка», the CLI and the metrics).

``period``     whole days in the shop's time zone, and the SQL that puts a stored time into its day
``summary``    a period's receipts per day by state, sums, time to done (median, p95), failure reasons
``attention``  what needs a person now, and the watch that signals ``receipts_need_attention``
``threshold``  the УСН VAT-threshold watch and the scheduled VAT change it proposes
``metrics``    Prometheus metrics (optional extra ``metrics``)

Everything is a constant number of aggregate SQL queries: no loop over receipts.
"""

from __future__ import annotations

from .attention import AttentionItem, AttentionReport, AttentionWatch, attention_report
from .period import Period, make_period, shop_zone
from .summary import Day, Reason, Summary, build_summary
from .threshold import CompanyWatch, schedule_vat_change, threshold_for, threshold_watch

__all__ = [
    "AttentionItem",
    "AttentionReport",
    "AttentionWatch",
    "CompanyWatch",
    "Day",
    "Period",
    "Reason",
    "Summary",
    "attention_report",
    "build_summary",
    "make_period",
    "schedule_vat_change",
    "shop_zone",
    "threshold_for",
    "threshold_watch",
]
