"""How much of the world the facilities layer covers, per mineral and stage.

For each mineral and stage of the facilities layer: how many facilities it lists, how much
operating capacity they add up to in the mineral's reference unit (``t LCE``, ``t REO``,
``t graphite``, ``t Ga``, ``t Ge``) against the world total of the production layer (with that
figure's source named), how many coordinates are checked on site, how many rows were reviewed in
the newest review year, and the oldest fact (``as_of``) a row rests on.

Capacity is converted the way allocation counts it
(:func:`geosource.flows.capacity_in_reference_units`); a capacity given in tonnes of a product
(magnets, for instance) is turned into reference content through the tonnes chains count
(:func:`geosource.chains.facility_capacity`) and the product's content. Rows whose capacity is
missing, or counted in a unit that is not the product (ore, zinc, battery feed), are counted and
named, never guessed.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .capacity import REFERENCE_UNITS, capacity_in_reference_units
from .chains import facility_capacity
from .layers import Layers
from .minerals import MINERALS, PRODUCTS, STAGES

__all__ = ["COVERAGE_COLUMNS", "WORLD_UNITS", "layer_coverage"]

# molar masses, g/mol: Li 6.941, Li2CO3 73.89
_LCE_PER_LI = 73.89 / (2 * 6.941)  # 5.323 t LCE per t Li content

#: Units of the production layer that convert to each mineral's reference unit, and the factor.
#: ``kt magnet REE`` (Nd, Pr, Dy, Tb only) is not total REO, so it is not a denominator.
WORLD_UNITS: dict[str, dict[str, float]] = {
    "lithium": {"t Li content": _LCE_PER_LI, "t LCE": 1.0, "kt LCE": 1000.0},
    "rare_earths": {"t REO": 1.0, "kt REO": 1000.0},
    "graphite": {"t graphite": 1.0, "kt battery-grade graphite": 1000.0},
    "gallium": {"t Ga": 1.0},
    "germanium": {"t Ge": 1.0},
}

#: Capacity units that count a material other than the facility's product: no conversion.
_PROXY_UNITS = frozenset({"t/y ore", "t/y zinc", "t/y alumina", "t/y battery feed"})

#: Columns of :func:`layer_coverage`, in order.
COVERAGE_COLUMNS: tuple[str, ...] = (
    "mineral",
    "stage",
    "facilities",
    "operating",
    "capacity_ref",
    "unit",
    "capacity_rows",
    "unknown_capacity",
    "world",
    "world_basis",
    "world_year",
    "world_source",
    "covered",
    "site_share",
    "reviewed_share",
    "oldest_as_of",
)


def layer_coverage(layers: Layers, reviewed_year: int | None = None) -> pd.DataFrame:
    """Coverage of the facilities layer per mineral and stage, against world totals.

    Parameters
    ----------
    layers
        From :func:`geosource.load_layers`.
    reviewed_year
        Rows whose ``reviewed`` date falls in this year count as reviewed (default: the year of
        the newest review in the layer).

    Returns
    -------
    DataFrame
        One row per mineral and stage (columns in :data:`COVERAGE_COLUMNS`): ``facilities``
        (rows of every status), ``operating``, ``capacity_ref`` (operating capacity in
        ``unit``, the mineral's reference unit, summed over the ``capacity_rows`` whose capacity
        converts), ``unknown_capacity`` (operating rows without a convertible capacity),
        ``world`` (the newest world total of the production layer for that stage, in ``unit``;
        NaN where the layer has none in a convertible unit), ``world_basis`` (what that total
        counts and its year), ``world_source``, ``covered`` (``capacity_ref / world``; nameplate
        capacity against production can exceed 1), ``site_share`` (share of
        ``coord_precision == "site"``), ``reviewed_share`` (share of rows reviewed in
        ``attrs["reviewed_year"]``) and ``oldest_as_of``. ``attrs["unknown"]`` lists, per
        mineral and stage, the ids of operating rows whose capacity is unknown and why.

    Examples
    --------
    >>> import geosource as gs
    >>> cov = gs.layer_coverage(gs.load_layers())
    >>> row = cov.set_index(["mineral", "stage"]).loc[("gallium", "refining")]
    >>> row["unit"], int(row["world_year"]) >= 2024
    ('t Ga', True)
    >>> bool((cov["site_share"] <= 1).all())
    True
    """
    fac = layers.facilities
    year = reviewed_year if reviewed_year is not None else _newest_review_year(fac)
    rows: list[dict[str, Any]] = []
    unknown: dict[str, list[str]] = {}
    for mid in MINERALS:
        of_mineral = fac[fac["mineral"] == mid]
        if of_mineral.empty:
            continue
        ref = _reference_capacity(layers, of_mineral, mid)
        for stage in STAGES:
            group = of_mineral[of_mineral["stage"] == stage]
            if group.empty:
                continue
            world = world_total(layers.production, mid, stage)
            row, missing = _stage_row(group, ref, mid, stage, world, year)
            rows.append(row)
            if missing:
                unknown[f"{mid}/{stage}"] = missing
    out = pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))
    out.attrs = {"reviewed_year": year, "unknown": unknown}
    return out


def _stage_row(
    group: pd.DataFrame,
    ref: pd.DataFrame,
    mid: str,
    stage: str,
    world: dict[str, Any],
    year: int | None,
) -> tuple[dict[str, Any], list[str]]:
    operating = group[group["status"] == "operating"]
    caps = ref.loc[ref["id"].isin(set(operating["id"]))]
    known = caps[caps["capacity_ref"].notna()]
    total = float(known["capacity_ref"].sum())
    missing = [
        f"{r['id']} ({r['reason']})" for r in caps[caps["capacity_ref"].isna()].to_dict("records")
    ]
    covered = total / world["world"] if world["world"] and world["world"] > 0 else math.nan
    reviewed = group["reviewed"] if "reviewed" in group.columns else pd.Series(dtype=str)
    in_year = reviewed.dropna().astype(str).str[:4] == str(year)
    return {
        "mineral": mid,
        "stage": stage,
        "facilities": len(group),
        "operating": len(operating),
        "capacity_ref": total,
        "unit": REFERENCE_UNITS[mid],
        "capacity_rows": len(known),
        "unknown_capacity": len(caps) - len(known),
        **world,
        "covered": covered,
        "site_share": float((group["coord_precision"] == "site").mean()),
        "reviewed_share": float(in_year.sum()) / len(group) if year is not None else math.nan,
        "oldest_as_of": str(group["as_of"].min()),
    }, missing


def _newest_review_year(fac: pd.DataFrame) -> int | None:
    if "reviewed" not in fac.columns or fac["reviewed"].isna().all():
        return None
    return int(str(fac["reviewed"].dropna().max())[:4])


def _reference_capacity(layers: Layers, fac: pd.DataFrame, mid: str) -> pd.DataFrame:
    """Each facility's capacity in the reference unit (``capacity_ref``) or the reason why not.

    Units with a documented factor convert as allocation counts them; a capacity in tonnes of a
    product without one (``t/y magnets``) converts through the tonnes chains count and the
    product's reference content.
    """
    ref = capacity_in_reference_units(layers, mid)
    if "capacity_product" not in fac.columns:
        return ref
    by_id = fac.set_index("id")
    for i, rec in ref.iterrows():
        if not math.isnan(float(rec["capacity_ref"])) or not rec["reason"].startswith(
            "capacity unit"
        ):
            continue
        product = by_id.at[rec["id"], "capacity_product"]
        unit = str(rec["capacity_unit"])
        if not isinstance(product, str) or product not in PRODUCTS or unit in _PROXY_UNITS:
            ref.at[i, "reason"] = f"capacity counted in {unit!r}, not in a product of the chain"
            continue
        tonnes = facility_capacity(by_id.loc[[rec["id"]]].reset_index(), product)[rec["id"]]
        if not math.isnan(tonnes):
            ref.at[i, "capacity_ref"] = tonnes * PRODUCTS[product].content
            ref.at[i, "reason"] = ""
    return ref


def world_total(production: pd.DataFrame, mineral: str, stage: str) -> dict[str, Any]:
    """The newest world total (``country == "WLD"``) of a mineral at a stage, in the reference
    unit, with what it counts and its source.

    A stage's whole-output row is preferred to a row for one product of the stage (a product
    row counts when the product is made at that stage, e.g. ``ndfeb_magnet`` for
    manufacturing). Rows in a unit of :data:`WORLD_UNITS` only; empty quantities (withheld) are
    skipped.

    Returns
    -------
    dict with ``world`` (NaN when there is none), ``world_basis``, ``world_year`` and
    ``world_source``.
    """
    units = WORLD_UNITS.get(mineral, {})
    rows = production[
        (production["mineral"] == mineral)
        & (production["country"] == "WLD")
        & production["quantity"].notna()
        & production["unit"].isin(list(units))
    ]
    product = rows["product"] if "product" in rows.columns else pd.Series(None, index=rows.index)
    whole = (product.isna() & (rows["stage"] == stage)).astype(bool)
    of_stage = product.map(
        lambda p: isinstance(p, str) and p in PRODUCTS and PRODUCTS[p].stage == stage
    ).astype(bool)
    candidates = rows[whole | of_stage].assign(_whole=whole[whole | of_stage])
    if candidates.empty:
        return {
            "world": math.nan,
            "world_basis": f"no world total for {stage} in the production layer",
            "world_year": pd.NA,
            "world_source": "",
        }
    best = candidates.sort_values(["year", "_whole"], ascending=False, kind="mergesort").iloc[0]
    what = "whole stage" if best["_whole"] else str(best["product"]).replace("_", " ")
    basis = str(best.get("share_basis") or "")
    kind = "capacity" if basis.lower().startswith("capacity") else "production"
    flag = best["estimate"]
    estimate = ", estimate" if not pd.isna(flag) and bool(flag) else ""
    return {
        "world": float(best["quantity"]) * units[str(best["unit"])],
        "world_basis": f"{kind} {int(best['year'])}, {what}{estimate}",
        "world_year": int(best["year"]),
        "world_source": _short_source(str(best["source"])),
    }


def _short_source(source: str) -> str:
    """The publication a citation names (its first clause), for one-line output."""
    for cut in (" (doi", ", file ", ", sheet ", ", https://"):
        source = source.split(cut, 1)[0]
    return source
