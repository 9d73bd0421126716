"""Write the API reference's pages, one per public module, from each module's ``__all__``
(run by hand when a module's public names change; ``tests/test_docs.py`` checks that the
pages list exactly those names)."""

from __future__ import annotations

import importlib
from pathlib import Path

MODULES = {
    "reco": "Data: ids, interactions and baskets",
    "reco.models": "Recommenders",
    "reco.mining": "Itemsets, rules and sequences",
    "reco.customers": "Customer value and churn",
    "reco.eval": "Evaluation",
    "reco.datasets": "Datasets and readers",
    "reco.crm": "The customer store",
    "reco.batch": "Batch scoring",
    "reco.serve": "HTTP serving",
    "reco.data.interop": "The peers' formats",
    "reco.testing": "Testing your own models",
    "reco.exceptions": "Errors and warnings",
}


def public_names(module: str) -> list[str]:
    names = getattr(importlib.import_module(module), "__all__", [])
    return [n for n in names if not n.startswith("__") and n != "interop"]


def page(module: str, title: str) -> str:
    heading = f"``{module}``: {title}"
    lines = [heading, "=" * len(heading), "", f".. automodule:: {module}", "   :no-members:", ""]
    lines += [
        f".. currentmodule:: {module}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "   :nosignatures:",
        "",
    ]
    lines += [f"   {name}" for name in public_names(module)]
    return "\n".join(lines) + "\n"


def main() -> None:
    here = Path(__file__).parent
    for module, title in MODULES.items():
        (here / f"{module}.rst").write_text(page(module, title))
    index = [
        "API reference",
        "=============",
        "",
        "Every public name of reco, by module. Each page gives the parameters, what is",
        "returned, what is raised and an example that runs (the examples are tested).",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    index += [f"   {module}" for module in MODULES]
    (here / "index.rst").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
