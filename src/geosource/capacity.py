"""Facility capacities in each mineral's reference unit (t LCE, t REO, t graphite, t Ga, t Ge).

Low-level: the allocation (:mod:`geosource.flows`, :mod:`geosource.world`) and the coverage
table read capacities through it.
"""

from __future__ import annotations

import math

import pandas as pd

from .layers import Layers
from .minerals import PRODUCTS, normalize_mineral

__all__ = ["REFERENCE_UNITS", "UNIT_FACTORS", "capacity_in_reference_units"]

#: The unit every flow of a mineral is counted in.
REFERENCE_UNITS: dict[str, str] = {
    "lithium": "t LCE",
    "rare_earths": "t REO",
    "graphite": "t graphite",
    "gallium": "t Ga",
    "germanium": "t Ge",
}

# Lithium factors from molar masses (g/mol: Li 6.941, O 15.999, C 12.011, H 1.008):
# Li2CO3 73.89, Li2O 29.88, LiOH·H2O 41.96.
_LCE_PER_LI2O = 73.89 / 29.88  # 2.473 t LCE per t Li2O
#: unit -> factor to the reference unit; a unit missing here is not convertible (the facility is
#: left out of the allocation and listed with the reason).
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "lithium": {
        "t/y LCE": 1.0,
        "t/y lithium carbonate": 1.0,
        "t/y lithium hydroxide": 73.89 / (2 * 41.96),  # 0.880 t LCE per t LiOH·H2O
        "t/y contained Li2O": _LCE_PER_LI2O,
        "t/y spodumene concentrate": 0.06 * _LCE_PER_LI2O,  # SC6 benchmark grade, 6% Li2O: 0.148
    },
    "rare_earths": {
        "t/y REO": 1.0,
        # a plant's NdPr oxide counted as separated REO: a lower bound of what it separates
        # (it also makes La, Ce and other oxides, in proportions its feed sets)
        "t/y NdPr oxide": 1.0,
        # product tonnes at the product's reference content (geosource.PRODUCTS)
        "t/y rare earth concentrate": PRODUCTS["ree_concentrate"].content,
        "t/y mixed rare earth carbonate": PRODUCTS["mixed_ree_carbonate"].content,
    },
    "graphite": {
        "t/y graphite concentrate": 1.0,
        "t/y spherical graphite": 1.0,
        "t/y anode material": 1.0,
    },
    "gallium": {"t/y Ga": 1.0},
    "germanium": {"t/y Ge": 1.0, "t/y germanium concentrate": PRODUCTS["ge_concentrate"].content},
}


def capacity_in_reference_units(layers: Layers, mineral: str) -> pd.DataFrame:
    """Every facility of the mineral with its capacity in the reference unit, or why not.

    Returns
    -------
    DataFrame: id, stage, country, capacity, capacity_unit, factor, capacity_ref, reason.
    """
    mid = normalize_mineral(mineral)
    fac = layers.facilities[layers.facilities["mineral"] == mid]
    rows = []
    for rec in fac.sort_values("id").to_dict("records"):
        unit = rec.get("capacity_unit")
        cap = rec.get("capacity")
        factor = UNIT_FACTORS[mid].get(str(unit)) if isinstance(unit, str) else None
        if cap is None or (isinstance(cap, float) and math.isnan(cap)):
            ref, reason = math.nan, "no capacity in the facilities layer"
        elif factor is None:
            ref, reason = (
                math.nan,
                (f"capacity unit {unit!r} has no documented factor to {REFERENCE_UNITS[mid]}"),
            )
        else:
            ref, reason = float(cap) * factor, ""
        rows.append(
            {
                "id": rec["id"],
                "stage": rec["stage"],
                "country": rec["country"],
                "capacity": cap,
                "capacity_unit": unit,
                "factor": factor,
                "capacity_ref": ref,
                "reason": reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "stage",
            "country",
            "capacity",
            "capacity_unit",
            "factor",
            "capacity_ref",
            "reason",
        ],
    )
