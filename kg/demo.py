"""A small real graph for first runs: countries with capitals, currencies, languages and borders.

Facts come from the ``countryinfo`` package (MIT); language and currency names from ``pycountry``.
"""

from __future__ import annotations

import logging

from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle

log = logging.getLogger(__name__)

DEMO_RELATIONS = [
    Relation(
        "P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?", True
    ),
    Relation(
        "P38",
        "currency",
        "The currency of {subject} is {object}.",
        "What is the currency of {subject}?",
        True,
    ),
    Relation(
        "P37",
        "official language",
        "An official language of {subject} is {object}.",
        "What is the official language of {subject}?",
        False,
    ),
    Relation(
        "P47",
        "shares border with",
        "{subject} shares a border with {object}.",
        "Which country does {subject} share a border with?",
        False,
    ),
    Relation(
        "P30",
        "continent",
        "{subject} is located in the continent of {object}.",
        "Which continent is {subject} in?",
        True,
    ),
    Relation(
        "P17",
        "country",
        "{subject} is located in the country of {object}.",
        "Which country is {subject} in?",
        True,
    ),
]


def demo_bundle() -> ImportBundle:
    import countryinfo
    import pycountry

    countries = []
    for record in countryinfo.all_countries():
        info = record.info()
        code = (info.get("ISO") or {}).get("alpha3")
        if info.get("name") and code:
            countries.append((code, info))
    codes = {code for code, _ in countries}
    entities: dict[str, Entity] = {}
    facts: list[tuple[str, str, str]] = []

    def entity(ident: str, label: str, aliases: tuple[str, ...] = ()) -> str:
        entities.setdefault(ident, Entity(ident, label, aliases))
        return ident

    for code, info in countries:
        aliases = tuple(sorted({a for a in info.get("altSpellings", []) if a and a != info["name"]}))
        country = entity(f"country:{code}", info["name"], aliases)
        capital = info.get("capital")
        if isinstance(capital, list):
            capital = capital[0] if capital else None
        if capital:
            city = entity(f"city:{code}:{capital}", capital)
            facts += [(country, "P36", city), (city, "P17", country)]
        for currency_code in info.get("currencies") or []:
            currency = pycountry.currencies.get(alpha_3=currency_code)
            if currency is not None:
                facts.append(
                    (country, "P38", entity(f"currency:{currency_code}", currency.name, (currency_code,)))
                )
                break
        for language_code in info.get("languages") or []:
            language = pycountry.languages.get(alpha_2=language_code)
            if language is not None:
                facts.append((country, "P37", entity(f"language:{language_code}", language.name)))
        if info.get("region"):
            facts.append((country, "P30", entity(f"region:{info['region']}", info["region"])))
        for border in info.get("borders") or []:
            if border in codes:
                facts.append((country, "P47", f"country:{border}"))
    return ImportBundle(list(entities.values()), list(DEMO_RELATIONS), facts, source="demo:countryinfo")


def load_demo(store: FactStore) -> int:
    """Load the demo graph into an empty store; returns the number of facts added (0 if not empty)."""
    if store.stats().entities:
        return 0
    report = store.import_bundle(demo_bundle())
    log.info("demo graph: %d entities, %d facts", report.entities, report.facts)
    return report.facts
