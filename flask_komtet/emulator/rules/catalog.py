"""The value sets KOMTET's v2 API takes, each with where it is written down.

"api §N" is a section of komtet_api.md; "SDK" is komtet-kassa-sdk 8.1.0,
``komtet_kassa_sdk/v2/check.py`` unless another file is named; "FFD" is the
fiscal data format 1.2 (tag numbers).
"""

from __future__ import annotations

__all__ = [
    "AGENT_TYPES", "CALCULATED_VAT", "CORRECTION_INTENTS", "CORRECTION_TYPES", "INTENTS", "MARKING_MARK_TYPES",
    "MARK_TYPES", "MEASURES", "OBSOLETE_TAX_SYSTEMS", "OBSOLETE_VAT", "PAYMENT_METHODS", "PAYMENT_OBJECTS",
    "PAYMENT_TYPES", "PLANNED_STATUSES", "PREPAYMENT_METHODS", "RETURN_INTENTS", "RETURN_PLANNED_STATUSES",
    "SALE_PLANNED_STATUSES", "TAX_SYSTEMS", "TIMEZONES", "USN_ONLY_VAT", "USN_TAX_SYSTEMS", "VAT_RATES",
    "WITHOUT_MARK_OBJECTS", "WITH_MARK_OBJECTS",
]

# api §4.1 «intent»; SDK class Intent.
INTENTS = frozenset(("sell", "sellReturn", "buy", "buyReturn", "sellCorrection", "sellReturnCorrection",
                     "buyCorrection", "buyReturnCorrection"))
CORRECTION_INTENTS = frozenset(i for i in INTENTS if i.endswith("Correction"))
RETURN_INTENTS = frozenset(("sellReturn", "buyReturn", "sellReturnCorrection", "buyReturnCorrection"))

# api §4.1 «sno»; SDK class TaxSystem (3, ЕНВД, was removed in SDK 7.5.0). bool is not an int here.
TAX_SYSTEMS = frozenset((0, 1, 2, 4, 5))
USN_TAX_SYSTEMS = frozenset((1, 2))  # УСН доход, УСН доход − расход
OBSOLETE_TAX_SYSTEMS = {3: "ЕНВД отменен с 1 января 2021 года (SDK 7.5.0 убрал его из TaxSystem)"}

# api §4.1 «VAT»; SDK class VatRate (8.0.0 dropped 18 and 118, added 22 and 122).
VAT_RATES = frozenset(("no", "0", "5", "7", "10", "20", "22", "105", "107", "110", "120", "122"))
CALCULATED_VAT = frozenset(("105", "107", "110", "120", "122"))
# fiscal_2026.md «Rates and tax systems»: 5 % and 7 % exist only for УСН payers (НК РФ ст. 164 п. 8).
USN_ONLY_VAT = frozenset(("5", "7", "105", "107"))
OBSOLETE_VAT = {
    "18": "ставка 18% отменена с 1 января 2019 года: используйте 20% (с 1 января 2026 года — 22%)",
    "118": "ставка 18/118 отменена с 1 января 2019 года: используйте 20/120 (с 1 января 2026 года — 22/122)",
}

# api §4.1 «Payments»; SDK class PaymentType.
PAYMENT_TYPES = frozenset(("card", "cash", "prepayment", "credit", "counter_provisioning"))

# api §4.1 «Способ расчёта» (tag 1214); SDK class PaymentMethod.
PAYMENT_METHODS = frozenset(("pre_payment_full", "pre_payment_part", "full_payment", "advance", "credit_part",
                             "credit_pay", "credit"))
PREPAYMENT_METHODS = frozenset(("pre_payment_full", "pre_payment_part", "advance"))

# api §4.1 «Предмет расчёта» (tag 1212), both tables; SDK class PaymentObject ("contributins" is the API's own).
PAYMENT_OBJECTS = frozenset((
    "product", "product_practical", "work", "service", "gambling_bet", "gambling_win", "lottery_bet",
    "lottery_win", "rid", "payment", "commission", "composite", "pay", "other", "property_right", "non_operating",
    "insurance", "sales_tax", "resort_fee", "deposit", "consumption", "sole_proprietor_cpi_contributins",
    "cpi_contributins", "sole_proprietor_cmi_contributins", "cmi_contributins", "csi_contributins",
    "casino_payment", "payment_of_the_money", "atnm", "atm", "tnm", "tm",
))
# SDK PaymentObject docstrings: atm/tm «имеющего код маркировки», atnm/tnm «не имеющего кода маркировки».
WITH_MARK_OBJECTS = frozenset(("tm", "atm"))
WITHOUT_MARK_OBJECTS = frozenset(("tnm", "atnm"))

# api §4.3 «measure» (tag 2108); SDK class MeasureTypes.
MEASURES = frozenset((0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83,
                      255))

# api §4.3 «mark_code»; SDK class MarkTypes.
MARK_TYPES = frozenset(("unknown", "ean8", "ean13", "itf14", "gs10", "gs1m", "short", "fur", "egais20", "egais30"))
# Types only a marked unit carries (a marking code, not a plain product barcode): the PHP SDK's MarkCode
# docstrings («подлежащий маркировке», КиЗ, ЕГАИС); gs10, EAN and ITF are codes of goods without marking.
MARKING_MARK_TYPES = frozenset(("gs1m", "short", "fur", "egais20", "egais30"))

# api §7.2 PlannedStatus (tag 2003): 1..6 and 255; SDK class PlannedStatus.
PLANNED_STATUSES = frozenset((1, 2, 3, 4, 5, 6, 255))
SALE_PLANNED_STATUSES = frozenset((1, 2, 5, 6))  # «реализован», «в стадии реализации»
RETURN_PLANNED_STATUSES = frozenset((3, 4))  # «возвращен», «часть товара возвращена»

# api §4.3 «Agent blocks»; SDK agent.py class AgentType.
AGENT_TYPES = frozenset(("bank_payment_agent", "bank_payment_subagent", "payment_agent", "payment_subagent",
                         "solicitor", "commissionaire", "agent"))

# api §4.3 «v2 correction receipt»; SDK class CorrectionType (v1 said "forced" where v2 says "instruction").
CORRECTION_TYPES = frozenset(("self", "instruction"))

# api §4.3 «timezone» (tag 1011); SDK class TimeZone: 1..11 = UTC+2..UTC+12.
TIMEZONES = frozenset(range(1, 12))
