"""The executive summary of a report: plain sentences read off the result frames.

Each sentence is an ``<li>`` with ``data-kind``, ``data-mineral``, ``data-buyer`` (and
``data-scenario``) so a reader, or a test, can find the frame row that every number comes from:
``best`` from the options table, ``scenario`` from the scenario's diff table, ``world`` from the
world allocation's buyers table.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .countries import country_name, normalize_country
from .minerals import MINERALS, PRODUCTS

__all__ = ["best_without", "buyer_code", "name", "possessive", "subject", "summary_html"]


def name(code: Any) -> str:
    """A country's name; the text itself for anything else (a demand-centre id)."""
    try:
        return country_name(str(code))
    except ValueError:
        return str(code)


def buyer_code(buyer: str) -> str | None:
    """The ISO3 code (or bloc) a buyer of the report stands for, if it is a country."""
    if buyer.upper() == "EU":
        return "EU"
    try:
        return normalize_country(buyer)
    except ValueError:
        return None


_THE = frozenset({"USA", "GBR", "NLD", "PHL", "ARE", "CZE", "COD", "CAF", "DOM", "BHS"})


def subject(code: Any) -> str:
    """A country's name as the subject of a sentence ("the United States")."""
    text = name(code)
    return f"the {text}" if str(code) in _THE else text


def possessive(code: Any) -> str:
    text = subject(code)
    return text + ("'" if text.endswith("s") else "'s")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _names(codes: Sequence[str]) -> str:
    return ", ".join(name(c) for c in codes)


def best_without(part: pd.DataFrame, without: Sequence[str]) -> pd.Series | None:
    """The best feasible option of one query with no stage in any of ``without``."""
    if part.empty:
        return None
    banned = set(without)
    ok = part[
        (part["blocked"].fillna("") == "")
        & part["chain_countries"].map(lambda cs: not banned & set(cs))
    ]
    if ok.empty:
        return None
    return ok.sort_values("rank", kind="mergesort").iloc[0]


def _attr(value: str) -> str:
    """An attribute value: escaped, whitespace as character references."""
    return "".join(f"&#{ord(c)};" if c.isspace() else c for c in html.escape(value, quote=True))


def _li(kind: str, mineral: str, buyer: str, text: str, scenario: str = "") -> str:
    extra = f' data-scenario="{_attr(scenario)}"' if scenario else ""
    return (
        f'<li class="gs-sentence" data-kind="{kind}" data-mineral="{_attr(mineral)}" '
        f'data-buyer="{_attr(buyer)}"{extra}>{html.escape(text)}</li>'
    )


def _chain(row: pd.Series, sites: Mapping[str, tuple[str, str]]) -> str:
    stops = []
    for fid, country in zip(row["chain"], row["chain_countries"], strict=True):
        site, _ = sites.get(str(fid), (str(fid), str(country)))
        stops.append(f"{site} ({name(country)})")
    return " → ".join(stops)


def _best(row: pd.Series | None, who: Any, what: str, without: str, n: int, sites: Any) -> str:
    if row is None:
        return _cap(
            f"{subject(who)} has no feasible source of {what} with no stage in {without} "
            f"({n} options)."
        )
    return (
        f"{_cap(possessive(who))} best source of {what} with no stage in {without} is "
        f"{_chain(row, sites)}: "
        f"{row['cost_usd_per_t']:,.1f} USD/t freight, {row['days']:,.1f} days, "
        f"{row['co2e_kg_per_t']:,.0f} kg CO2e/t, score {row['score']:.3f} "
        f"(option {int(row['rank'])} of {n})."
    )


def _scenario(row: pd.Series | None, diff: pd.DataFrame, scenario: str, query: str) -> str:
    part = diff[diff["query"] == query]
    lost = int((part["status"] == "lost").sum())
    n = int(part["rank_base"].notna().sum())
    tail = f" {lost} of {n} options are lost." if lost else ""
    moved = part[
        (part["status"] == "changed")
        & ((part["delta_cost_usd_per_t"].abs() > 0.005) | (part["delta_days"].abs() > 0.005))
    ]
    if len(moved):
        tail += (
            f" Across all options it changes {len(moved)} of {n}: median "
            f"{moved['delta_days'].median():+,.1f} days, "
            f"{moved['delta_cost_usd_per_t'].median():+,.1f} USD/t."
        )
    if row is None:
        return f"Under scenario {scenario}:{tail or ' no option is lost.'}"
    match = part[part["chain_countries"].map(tuple) == tuple(row["chain_countries"])]
    if match.empty or match.iloc[0]["status"] == "lost":
        return f"Scenario {scenario} leaves that option without a route.{tail}"
    r = match.iloc[0]
    dc, dd = float(r["delta_cost_usd_per_t"]), float(r["delta_days"])
    if abs(dc) < 0.05 and abs(dd) < 0.05:
        return f"Scenario {scenario} does not change that option's freight.{tail}"
    verb = "adds" if dc >= 0 and dd >= 0 else "changes by"
    return (
        f"Scenario {scenario} {verb} {dd:,.1f} days and {dc:,.1f} USD/t to that option "
        f"({r['cost_usd_per_t_base']:,.1f} → {r['cost_usd_per_t_scenario']:,.1f} USD/t, "
        f"{r['days_base']:,.1f} → {r['days_scenario']:,.1f} days).{tail}"
    )


def _world(buyer: str, code: str | None, scenario: str, world: Any, base: Any) -> str:
    if isinstance(world, str):
        return f"The world allocation under scenario {scenario} could not run: {world}."
    rows = world.buyers.set_index("buyer")
    if code is None or code not in rows.index:
        short = world.shortfalls()
        top = "; ".join(
            f"{name(b) if b != 'ROW' else 'rest of world'} {float(v):,.0f} {rows.loc[b, 'unit']}"
            for b, v in short.head(3).items()
        )
        return (
            f"{_cap(subject(buyer))} has no row in the demand layer, so the world allocation "
            f"(gs.allocate_world) cannot say how short it would be under scenario {scenario}; "
            f"the largest shortfalls there are {top or 'none'}."
        )
    r = rows.loc[code]
    text = (
        f"If scenario {scenario} holds (world allocation, gs.allocate_world), {subject(code)} is "
        f"short {float(r['unmet']):,.0f} {r['unit']} of its {float(r['demand']):,.0f} "
        f"{r['unit']} demand ({float(r['share_met']):.0%} met)"
    )
    if base is not None and not isinstance(base, str) and code in set(base.buyers["buyer"]):
        b = base.buyers.set_index("buyer").loc[code]
        text += f", against {float(b['unmet']):,.0f} {b['unit']} short in the baseline"
    return text + "."


def summary_html(
    *,
    day: str,
    minerals: Sequence[str],
    buyers: Sequence[str],
    full: Mapping[str, pd.DataFrame],
    diffs: Mapping[str, Mapping[str, pd.DataFrame]],
    worlds: Mapping[str, Mapping[str, Any]],
    without: Sequence[str],
    sites: Mapping[str, tuple[str, str]],
) -> str:
    """The summary section: per mineral, per buyer, the best option without ``without``, what
    each scenario does to it, and each world-allocation scenario's shortfall."""
    out = [f'<section class="summary" id="summary"><h2>Executive summary ({html.escape(day)})</h2>']
    for mineral in minerals:
        frame = full[mineral]
        out.append(f"<h3>{html.escape(MINERALS[mineral].name)}</h3><ul>")
        for buyer in buyers:
            part = frame[frame["query"] == buyer]
            product = str(part["product"].iloc[0]) if len(part) else ""
            what = PRODUCTS[product].name if product in PRODUCTS else MINERALS[mineral].name
            row = best_without(part, without)
            what = what[:1].lower() + what[1:]
            text = _best(row, buyer, what, _names(without) or "no country", len(part), sites)
            out.append(_li("best", mineral, buyer, text))
            for sc, diff in diffs.get(mineral, {}).items():
                out.append(_li("scenario", mineral, buyer, _scenario(row, diff, sc, buyer), sc))
            per = worlds.get(mineral, {})
            for sc, world in per.items():
                if sc == "":
                    continue
                text = _world(buyer, buyer_code(buyer), sc, world, per.get(""))
                out.append(_li("world", mineral, buyer, text, sc))
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)
