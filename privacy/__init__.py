"""Privacy library (隐私保护): masking, pseudonyms, generalisation, k-anonymity and DP.

Pure functions and value objects with no IO, so any stage of the platform may call them; the
exchange API uses them to deliver data that is "usable but invisible" (可用不可见).
"""

from privacy.disclosure import (
    BirthDateShown,
    DisclosureRules,
    ServedField,
    Treatment,
    plan_fields,
    served_value,
)
from privacy.dp import (
    PrivacyBudget,
    check_epsilon,
    laplace_count,
    laplace_sum,
    noisy_mean,
    sum_sensitivity,
)
from privacy.errors import BudgetExhausted, InvalidPrivacyParameter, PrivacyError
from privacy.generalise import (
    age_band,
    age_band_from_id,
    age_on,
    birth_date_from_id,
    birth_year,
    generalise_birth_date,
    numeric_band,
    truncate_region,
)
from privacy.kanon import (
    equivalence_classes,
    k_anonymity,
    suppress_small_groups,
    violating_groups,
)
from privacy.masking import (
    MaskKind,
    NameMask,
    mask,
    mask_address,
    mask_bank_card,
    mask_email,
    mask_ends,
    mask_generic,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_uscc,
)
from privacy.pseudonym import department_key, make_pseudonymiser, pseudonymise
from privacy.suppression import secondary_suppression
from privacy.units import PERSON, BudgetPeriod, budget_period, privacy_unit

__all__ = [
    "PERSON",
    "BirthDateShown",
    "BudgetExhausted",
    "BudgetPeriod",
    "DisclosureRules",
    "InvalidPrivacyParameter",
    "MaskKind",
    "NameMask",
    "PrivacyBudget",
    "PrivacyError",
    "ServedField",
    "Treatment",
    "age_band",
    "age_band_from_id",
    "age_on",
    "birth_date_from_id",
    "birth_year",
    "budget_period",
    "check_epsilon",
    "department_key",
    "equivalence_classes",
    "generalise_birth_date",
    "k_anonymity",
    "laplace_count",
    "laplace_sum",
    "make_pseudonymiser",
    "mask",
    "mask_address",
    "mask_bank_card",
    "mask_email",
    "mask_ends",
    "mask_generic",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "mask_uscc",
    "noisy_mean",
    "numeric_band",
    "plan_fields",
    "privacy_unit",
    "pseudonymise",
    "secondary_suppression",
    "served_value",
    "sum_sensitivity",
    "suppress_small_groups",
    "truncate_region",
    "violating_groups",
]
