"""The Graph tab: an entity's neighbourhood in the current view, drawn with networkx and matplotlib.

Edges that come from active edits are drawn thick and red so a curator sees at a glance where the
graph departs from its base facts. Clicking a node in the picture (or picking a neighbour from the
list) re-centres the drawing on it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from app.ui.common import entity_picker, guarded  # noqa: E402
from app.ui.services import Services  # noqa: E402
from kg.records import Fact, Origin  # noqa: E402
from kg.store import FactStore  # noqa: E402

EDGE_COLUMNS = ["subject", "relation", "object", "origin", "edit"]
EDIT_COLOUR = "#c62828"
BASE_COLOUR = "#7f8c9a"
CLICK_RADIUS_PX = 40


@dataclass
class Neighbourhood:
    center: str
    facts: list[Fact] = field(default_factory=list)
    truncated: int = 0

    @property
    def nodes(self) -> list[str]:
        seen = dict.fromkeys([self.center])
        for fact in self.facts:
            seen.setdefault(fact.subject)
            seen.setdefault(fact.object)
        return list(seen)


def neighbourhood(store: FactStore, center: str, depth: int = 1, max_facts: int = 60) -> Neighbourhood:
    """Current facts within ``depth`` hops of ``center`` in either direction, edits first when cut."""
    found: dict[tuple[str, str, str], Fact] = {}
    frontier = {center}
    seen = {center}
    for _ in range(max(1, depth)):
        following: set[str] = set()
        for node in sorted(frontier):
            for fact in store.facts_about(node) + store.facts_pointing_to(node):
                found.setdefault((fact.subject, fact.relation, fact.object), fact)
                for other in (fact.subject, fact.object):
                    if other not in seen:
                        seen.add(other)
                        following.add(other)
        frontier = following
    facts = sorted(
        found.values(), key=lambda f: (f.origin is not Origin.EDIT, f.subject != center, f.relation, f.object)
    )
    return Neighbourhood(center, facts[:max_facts], max(0, len(facts) - max_facts))


def draw(
    hood: Neighbourhood, labels: dict[str, str], relation_labels: dict[str, str]
) -> tuple[Image.Image, dict[str, tuple[float, float]]]:
    """The picture, and each node's pixel position in it (for click-through)."""
    graph = nx.DiGraph()
    graph.add_node(hood.center)
    edge_text: dict[tuple[str, str], list[str]] = {}
    edited: set[tuple[str, str]] = set()
    for fact in hood.facts:
        key = (fact.subject, fact.object)
        graph.add_edge(*key)
        edge_text.setdefault(key, []).append(relation_labels.get(fact.relation, fact.relation))
        if fact.origin is Origin.EDIT:
            edited.add(key)
    fig, ax = plt.subplots(figsize=(10, 7.5), dpi=100)
    positions = _layout(graph, hood.center)
    plain = [e for e in graph.edges if e not in edited]
    node_colours = ["#f6c343" if n == hood.center else "#cfe3f7" for n in graph.nodes]
    nx.draw_networkx_nodes(
        graph, positions, ax=ax, node_color=node_colours, node_size=900, edgecolors="#34495e"
    )
    nx.draw_networkx_edges(
        graph,
        positions,
        edgelist=plain,
        ax=ax,
        edge_color=BASE_COLOUR,
        width=1.2,
        arrows=True,
        arrowsize=14,
        node_size=900,
        connectionstyle="arc3,rad=0.08",
    )
    nx.draw_networkx_edges(
        graph,
        positions,
        edgelist=sorted(edited),
        ax=ax,
        edge_color=EDIT_COLOUR,
        width=3.5,
        arrows=True,
        arrowsize=20,
        node_size=900,
        connectionstyle="arc3,rad=0.08",
    )
    nx.draw_networkx_labels(
        graph,
        positions,
        labels={n: _literal(_short(labels.get(n, n))) for n in graph.nodes},
        ax=ax,
        font_size=9,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
    )
    nx.draw_networkx_edge_labels(
        graph,
        positions,
        edge_labels={k: _literal(" / ".join(sorted(set(v)))) for k, v in edge_text.items()},
        ax=ax,
        font_size=7,
        font_color="#2c3e50",
        connectionstyle="arc3,rad=0.08",
    )
    title = f"{labels.get(hood.center, hood.center)}: {len(hood.facts)} facts"
    if hood.truncated:
        title += f" (+{hood.truncated} not drawn)"
    ax.set_title(_literal(title) + "   red = edited fact", fontsize=11)
    ax.axis("off")
    ax.margins(0.08)
    fig.tight_layout()
    fig.canvas.draw()
    height = fig.canvas.get_width_height()[1]
    pixels = {
        node: (float(x), float(height - y))
        for node, (x, y) in zip(
            positions, ax.transData.transform([positions[n] for n in positions]), strict=True
        )
    }
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB"), pixels


def _layout(graph: nx.DiGraph, center: str) -> dict[str, Any]:
    """Rings around the centre by distance, so edge labels spread out instead of piling up."""
    distance = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), center)
    rings: dict[int, list[str]] = {}
    for node, d in distance.items():
        rings.setdefault(d, []).append(node)
    shells = [sorted(rings[d]) for d in sorted(rings)]
    if len(shells) == 1:
        return {center: (0.0, 0.0)}
    return dict(nx.shell_layout(graph, nlist=shells, rotate=0.3))


def _literal(text: str) -> str:
    """A label as matplotlib should draw it: ``$`` would start mathtext, and a bad formula fails the
    whole picture; control characters become spaces."""
    return "".join(" " if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 else c for c in text).replace("$", r"\$")


def _short(text: str, width: int = 18) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def nearest_node(pixels: dict[str, tuple[float, float]], x: float, y: float) -> str | None:
    best = min(pixels.items(), key=lambda item: (item[1][0] - x) ** 2 + (item[1][1] - y) ** 2, default=None)
    if best is None or math.dist(best[1], (x, y)) > CLICK_RADIUS_PX:
        return None
    return best[0]


def build_graph_tab(services: Services) -> dict[str, Any]:
    with gr.Row():
        center = entity_picker(services, "Entity", elem_id="graph-entity", scale=3)
        depth = gr.Slider(1, 2, value=1, step=1, label="Depth (hops)", scale=1)
        limit = gr.Slider(10, 150, value=60, step=10, label="Most facts drawn", scale=1)
        draw_btn = gr.Button("Draw", scale=1)
    picture = gr.Image(
        type="pil",
        label="Neighbourhood (click a node to go there)",
        interactive=False,
        elem_id="graph-image",
        height=620,
    )
    positions = gr.State({})
    with gr.Row():
        neighbour = gr.Dropdown(
            choices=[], label="Go to a neighbour", allow_custom_value=True, scale=3, elem_id="graph-neighbour"
        )
    edges = gr.Dataframe(
        headers=EDGE_COLUMNS, interactive=False, label="Facts drawn", wrap=True, elem_id="graph-edges"
    )

    @guarded
    def render(text: str, hops: float, most: float) -> tuple[Image.Image, dict[str, Any], Any, pd.DataFrame]:
        entity = services.resolve_entity(text)
        hood = neighbourhood(services.store, entity.id, int(hops), int(most))
        labels = services.labels()
        relation_labels = {r.id: r.label for r in services.store.relations()}
        image, pixels = draw(hood, labels, relation_labels)
        others = [n for n in hood.nodes if n != entity.id]
        rows = [
            [
                labels.get(f.subject, f.subject),
                relation_labels.get(f.relation, f.relation),
                labels.get(f.object, f.object),
                f.origin.value,
                f.edit_id or "",
            ]
            for f in hood.facts
        ]
        return (
            image,
            pixels,
            gr.update(choices=[(labels.get(n, n), n) for n in others], value=None),
            pd.DataFrame(rows, columns=EDGE_COLUMNS),
        )

    def go(target: str | None) -> Any:
        return gr.update(value=target) if target else gr.update()

    def clicked(pixels: dict[str, Any], evt: gr.SelectData) -> Any:
        x, y = evt.index
        target = nearest_node({k: (v[0], v[1]) for k, v in pixels.items()}, float(x), float(y))
        return gr.update(value=target) if target else gr.update()

    outputs = [picture, positions, neighbour, edges]
    draw_btn.click(render, [center, depth, limit], outputs, api_name="graph")
    center.change(render, [center, depth, limit], outputs, api_visibility="private")
    neighbour.change(go, [neighbour], [center], api_visibility="private")
    picture.select(clicked, [positions], [center], api_visibility="private")
    return {"pickers": [center]}
