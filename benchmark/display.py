"""Readable CLI output: aligned lists and the baseline and dataset cards as sections and tables.

The cards are data (``BaselineEntry.card()``, ``DatasetCard.to_dict()``); this module only lays
them out, with ``rich``. Every value is printed as plain text, never as rich markup: a YAML card is
user input. A field added to a card later shows up here without an edit (as a key-value line).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

MAX_SOURCES = 8  # more upstream files are summarised (``--json`` lists them all)


def fmt(value: Any, nested: bool = False) -> str:
    """One value as short text: ``None`` as "-", numbers compact, lists and mappings inline."""
    if value is None or (isinstance(value, Mapping | list | tuple) and not value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k} {fmt(v, True)}" for k, v in value.items())
        return f"({inner})" if nested else inner
    if isinstance(value, list | tuple):
        inner = ", ".join(fmt(v, True) for v in value)
        return f"({inner})" if nested else inner
    return str(value)


def label(key: str) -> str:
    return key.replace("_", " ")


def columns(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """An aligned list without borders (``datasets list``, ``baselines list``)."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*(Text(fmt(v)) for v in row))
    return table


def fields(pairs: Iterable[tuple[str, Any]]) -> Table:
    """Aligned ``key  value`` lines; long values wrap within their column."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, value in pairs:
        table.add_row(Text(label(key)), Text(fmt(value)))
    return table


def grid(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> Table:
    """A bordered table with a title."""
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, title=title, title_justify="left", title_style="bold")
    for row in rows:
        table.add_row(*(Text(fmt(v)) for v in row))
    return table


def heading(text: str) -> Text:
    return Text(text, style="bold")


def bullets(title: str, items: Sequence[str]) -> Group:
    """A heading over a list whose wrapped lines hang under the text, not the dash."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for item in items:
        table.add_row(Text("  -"), Text(item))
    return Group(heading(title), table)


def show(*parts: RenderableType) -> None:
    """Print ``parts`` separated by blank lines: styled on a terminal; plain, 120 columns wide and
    without trailing blanks in a pipe or a file."""
    tty = sys.stdout.isatty()
    console = Console(
        highlight=False, emoji=False, markup=False, file=None if tty else io.StringIO(), width=None if tty else 120
    )
    for i, part in enumerate(parts):
        if i:
            console.print()
        console.print(part)
    if not tty:
        sys.stdout.write("".join(line.rstrip() + "\n" for line in console.file.getvalue().splitlines()))


def baseline_card(card: Mapping[str, Any], parameters: Mapping[str, Mapping[str, int]]) -> list[RenderableType]:
    """``segrepro baselines show``: the entry's fields, its recipes as a table (tiers as columns) with
    ``parameters`` ({"2-D, 4 classes": {tier: count}}), the recipe notes and the reconstructions."""
    output = card["output"] if card["output"] == "softmax" else f"{card['output']}, threshold {card['threshold']}"
    skip = {"id", "title", "output", "threshold", "recipes", "reconstructions"}
    about = [("output", output), *((k, v) for k, v in card.items() if k not in skip)]
    about = [(k, ", ".join(f"{d}-D" for d in v) if k == "spatial_dims" else v) for k, v in about]
    recipes: Mapping[str, Mapping[str, Any]] = card["recipes"]
    tiers = list(recipes)
    keys = [k for k in dict.fromkeys(k for r in recipes.values() for k in r) if k not in ("patch_size", "note")]
    dims = sorted({d for r in recipes.values() for d in r["patch_size"]})
    rows = [(f"patch {d}-D", *(patch(recipes[t]["patch_size"].get(d)) for t in tiers)) for d in dims]
    rows += [(label(k), *(recipes[t].get(k) for t in tiers)) for k in keys]
    rows += [(f"parameters {what}", *(counts.get(t) for t in tiers)) for what, counts in parameters.items()]
    parts: list[RenderableType] = [heading(f"{card['id']}: {card['title']}"), fields(about)]
    parts.append(grid(["recipe", *tiers], rows, "Recipes per tier"))
    notes = [f"{t}: {recipes[t]['note']}" for t in tiers if recipes[t].get("note")]
    parts += [bullets("Recipe notes", notes)] if notes else []
    parts += [bullets("Reconstructions", card["reconstructions"])] if card.get("reconstructions") else []
    return parts


def patch(size: Sequence[int] | None) -> str:
    return "x".join(map(str, size)) if size else "-"


def dataset_card(card: Mapping[str, Any], prepared: Mapping[str, Any] | None, name: str) -> list[RenderableType]:
    """``segrepro datasets show``: the card's fields, its classes (with the prepared voxel counts and
    frequencies when prepared), its upstream files and the prepared data's hash, or how to prepare it."""
    skip = {"name", "title", "classes", "sources", "extra", "voxel_size", "voxel_unit", "spatial_dims"}
    voxel = card.get("voxel_size")
    about = [("spatial_dims", f"{card['spatial_dims']}-D")]
    about += [("voxel_size", f"{' x '.join(map(fmt, voxel))} {card.get('voxel_unit', '')}".strip())] if voxel else []
    about += [(k, v) for k, v in card.items() if k not in skip and fmt(v) not in ("-", "")]
    about += list(card.get("extra", {}).items())
    counts = (prepared or {}).get("class_counts", {})
    freqs = (prepared or {}).get("class_frequencies", {})
    headers = ["id", "class", "raw values", "colour", *(["voxels", "frequency"] if prepared else [])]
    rows = [
        (i, c["name"], c["values"], c["colour"], *([counts.get(c["name"]), freqs.get(c["name"])] if prepared else []))
        for i, c in enumerate(card["classes"])
    ]
    parts: list[RenderableType] = [heading(f"{card['name']}: {card['title']}"), fields(about)]
    parts.append(grid(headers, rows, "Classes"))
    sources = card.get("sources", [])
    if sources:
        table = grid(["file", "sha256"], ((s["path"], s["sha256"]) for s in sources[:MAX_SOURCES]), "Upstream files")
        bases = sorted({s["url"].rpartition("/")[0] for s in sources})
        about_files = [f"from {bases[0]}/" if len(bases) == 1 else f"from {len(bases)} locations"]
        if len(sources) > MAX_SOURCES:
            about_files.insert(0, f"{MAX_SOURCES} of {len(sources)} files shown (--json lists all)")
        if any(s["sha256"] is None for s in sources):
            about_files.append("sha256 '-': none published, pinned at the first download")
        parts.append(Group(table, Text("; ".join(about_files))))
    if prepared:
        about_data = fields((k, prepared.get(k)) for k in ("masked_fraction", "data_hash"))
        parts.append(Group(heading("Prepared"), about_data))
    else:
        parts.append(Text(f"Not prepared; run: segrepro datasets prepare {name}"))
    return parts
