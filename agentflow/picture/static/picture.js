/* agentflow evidence picture: draws an EvidencePicture (agentflow/picture/evidence.py)
   with cytoscape.js. Used by `agentflow show --html` pages and the chat page.
   AgentflowPicture.render(container, data, {onSelect, tooltip}) -> {cy, showAll, renderMs} */
(function () {
  "use strict";
  const COLORS = {answer: "#dc2626", question: "#1d4ed8", subquestion: "#7c3aed",
                  fact: "#059669", passage: "#d97706", entity: "#64748b"};
  const LAYER = {answer: 0, question: 1, subquestion: 2, fact: 3, passage: 4, entity: 5};
  const PATH = "#facc15";
  const ROW = 46, COL = 230, SUB = 150, MAX_ROWS = 24;

  // Layered positions (answer | question | sub-questions | facts | passages | entities),
  // path nodes first in each layer. A preset layout is linear in the node count, which
  // keeps a 2,000-node memory graph responsive where a force layout is not.
  function positions(nodes) {
    const layers = [[], [], [], [], [], []];
    for (const n of nodes) layers[LAYER[n.kind] ?? 5].push(n);
    const pos = {};
    let x = 0;
    layers.forEach((layer) => {
      layer.sort((a, b) => (b.on_path - a.on_path) || (b.cited - a.cited) || 0);
      const cols = Math.max(1, Math.ceil(layer.length / MAX_ROWS));
      const rows = Math.min(layer.length, MAX_ROWS);
      layer.forEach((n, i) => {
        const col = Math.floor(i / MAX_ROWS), row = i % MAX_ROWS;
        pos[n.id] = {x: x + col * SUB, y: (row - (rows - 1) / 2) * ROW};
      });
      if (layer.length) x += (cols - 1) * SUB + COL;
    });
    return pos;
  }

  function elements(data, all) {
    const nodes = data.nodes.filter((n) => all || n.core);
    const ids = new Set(nodes.map((n) => n.id));
    const pos = positions(nodes);
    const els = nodes.map((n) => ({
      group: "nodes", data: {id: n.id, label: n.label, kind: n.kind, color: COLORS[n.kind] || "#999"},
      position: pos[n.id],
      classes: [n.kind, n.on_path ? "path" : "", n.cited ? "cited" : "", n.removed ? "removed" : "",
                n.refused ? "refused" : ""].join(" ").trim(),
    }));
    data.edges.forEach((e, i) => {
      if (!ids.has(e.source) || !ids.has(e.target)) return;
      els.push({group: "edges", data: {id: "e" + i, source: e.source, target: e.target, kind: e.kind},
                classes: [e.kind, e.on_path ? "path" : ""].join(" ").trim()});
    });
    return els;
  }

  function style(large) {
    return [
      {selector: "node", style: {"background-color": "data(color)", "label": "data(label)", "font-size": 10,
        "text-valign": "bottom", "text-margin-y": 3, "color": "#1f2937", "width": 16, "height": 16,
        "text-wrap": "ellipsis", "text-max-width": 140, "min-zoomed-font-size": large ? 9 : 0,
        "border-width": 1, "border-color": "#fff"}},
      {selector: "node.answer", style: {"width": 28, "height": 28, "shape": "star", "font-weight": "bold"}},
      {selector: "node.question", style: {"width": 24, "height": 24, "shape": "round-rectangle"}},
      {selector: "node.subquestion", style: {"shape": "round-rectangle", "width": 20, "height": 20}},
      {selector: "node.passage", style: {"shape": "rectangle"}},
      {selector: "node.entity", style: {"width": 10, "height": 10, "font-size": 8}},
      {selector: "node.path", style: {"border-width": 4, "border-color": PATH}},
      {selector: "node.refused", style: {"border-width": 3, "border-color": "#b91c1c", "border-style": "dashed"}},
      {selector: "node.removed", style: {"border-width": 3, "border-color": "#b91c1c", "border-style": "dotted",
        "background-opacity": 0.35}},
      {selector: "node:selected", style: {"border-width": 5, "border-color": "#111827"}},
      {selector: "edge", style: {"width": 1, "line-color": "#cbd5e1", "curve-style": large ? "haystack" : "bezier",
        "opacity": 0.7}},
      {selector: "edge.path", style: {"width": 3, "line-color": PATH, "opacity": 1, "z-index": 10}},
      {selector: "edge.cites", style: {"line-style": "dashed", "width": 2}},
      {selector: "edge.removed_citation", style: {"line-style": "dashed", "line-color": "#b91c1c", "opacity": 1}},
    ];
  }

  function render(container, data, opts) {
    opts = opts || {};
    const t0 = performance.now();
    let showingAll = !data.collapsed;
    const byId = new Map(data.nodes.map((n) => [n.id, n]));
    const make = () => {
      const els = elements(data, showingAll);
      const large = els.length > 600;
      return cytoscape({container, elements: els, layout: {name: "preset"}, style: style(large),
        minZoom: 0.05, maxZoom: 3, textureOnViewport: large,
        hideEdgesOnViewport: large, pixelRatio: large ? 1 : "auto", boxSelectionEnabled: false});
    };
    const tip = opts.tooltip || null;
    const view = {cy: null, renderMs: 0, showingAll: () => showingAll, node: (id) => byId.get(id)};
    const wire = (cy) => {
      cy.on("mouseover", "node", (ev) => {
        if (!tip) return;
        const n = byId.get(ev.target.id());
        const p = ev.renderedPosition || ev.target.renderedPosition();
        tip.textContent = (n.title && n.kind === "passage" ? n.title + "\n" : "") + (n.text || n.label);
        tip.style.left = (p.x + 14) + "px";
        tip.style.top = (p.y + 14) + "px";
        tip.hidden = false;
      });
      cy.on("mouseout", "node", () => { if (tip) tip.hidden = true; });
      cy.on("tap", "node", (ev) => { if (opts.onSelect) opts.onSelect(byId.get(ev.target.id())); });
      cy.fit(undefined, 30);
    };
    const draw = () => {
      const start = performance.now();
      if (view.cy) view.cy.destroy();
      view.cy = make();
      wire(view.cy);
      view.renderMs = performance.now() - start;
    };
    view.showAll = () => { showingAll = true; draw(); return view; };
    draw();
    view.totalMs = performance.now() - t0;
    return view;
  }

  window.AgentflowPicture = {render, COLORS};
})();
