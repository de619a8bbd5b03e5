// The live page at `/`: one HTML document and one script, both committed here and served by the
// daemon (no CDN, no build step). It draws the fabric from /topology/json, colours each link by its
// utilization, draws the current elephants as paths, lists the last decisions, and keeps all of it
// current from the SSE feeds (/flows/sse for rates and link loads, /events/sse for events).

enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tusk</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
 header { padding: 8px 14px; background: #233; color: #eee; display: flex; gap: 18px; align-items: baseline; }
 header h1 { font-size: 16px; margin: 0; }
 main { display: grid; grid-template-columns: minmax(480px, 3fr) minmax(300px, 2fr); gap: 10px; padding: 10px; }
 section { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 8px; }
 h2 { font-size: 13px; margin: 0 0 6px; }
 #fabric svg { width: 100%; height: 460px; }
 .link { stroke-width: 4; stroke-linecap: round; cursor: pointer; }
 .link.down { stroke-dasharray: 4 4; }
 .node rect { fill: #456; } .node.up rect { fill: #276; } .node.host circle { fill: #888; }
 .node text { fill: #fff; font-size: 11px; text-anchor: middle; pointer-events: none; }
 .node.host text { fill: #333; }
 .elephant { fill: none; stroke-width: 2.5; opacity: .85; cursor: pointer; }
 .elephant.selected { stroke-width: 5; opacity: 1; }
 table { border-collapse: collapse; width: 100%; font-size: 12px; }
 td, th { padding: 2px 4px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
 #decisions li, #events li { font-size: 12px; margin-bottom: 3px; }
 ul { padding-left: 16px; margin: 0; max-height: 220px; overflow-y: auto; }
 #detail { font-size: 12px; min-height: 40px; }
 #chart svg { width: 100%; height: 160px; background: #fcfcfc; }
 .legend span { display: inline-block; width: 28px; height: 8px; margin-right: 2px; }
 .failed { color: #b00; }
 tr.elephant-row td:first-child { font-weight: 600; color: #1f5fbf; }
</style>
</head>
<body>
<header><h1>Tusk</h1><span id="status">connecting…</span><span id="version"></span>
 <span>events <b id="sse-count" data-count="0">0</b></span><span id="updated"></span></header>
<main>
 <section id="fabric"><h2>Fabric <span class="legend" id="legend"></span></h2>
  <svg id="fabric-svg" viewBox="0 0 1000 460" preserveAspectRatio="xMidYMid meet"></svg>
  <div id="detail">Hover a link for its utilization; click a link for its chart, an elephant for its rate and path.</div></section>
 <section><h2>Elephants and largest flows</h2><table><thead><tr><th>flow</th><th>rate</th><th>±</th><th>path / links</th></tr></thead>
  <tbody id="flows"></tbody></table></section>
 <section id="chart"><h2>Utilization, last 5 minutes: <select id="chart-link"></select></h2><svg id="chart-svg" viewBox="0 0 600 160" preserveAspectRatio="none"></svg></section>
 <section><h2>Decisions</h2><ul id="decisions"></ul><h2 style="margin-top:8px">Events</h2><ul id="events"></ul></section>
</main>
<script src="/tusk.js"></script>
</body>
</html>
"""#

    static let script = #"""
"use strict";
const svgNS = "http://www.w3.org/2000/svg";
const state = { topo: null, pos: {}, util: {}, linkEls: {}, elephants: [], flows: [], selected: null, chartLink: null, events: 0 };
const $ = (id) => document.getElementById(id);
function el(tag, attrs, parent) {
  const e = document.createElementNS(svgNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function rate(bps) {
  const u = [["G", 1e9], ["M", 1e6], ["k", 1e3]];
  for (const [s, v] of u) if (bps >= v) return (bps / v).toFixed(1) + " " + s + "bit/s";
  return Math.round(bps) + " bit/s";
}
function colour(u) {
  // green (idle) → yellow → red (full); grey when unknown.
  if (u === undefined || u === null || isNaN(u)) return "#bbb";
  const x = Math.max(0, Math.min(1, u));
  const h = 120 * (1 - x);
  return "hsl(" + h + ",75%,45%)";
}
async function getJSON(url) { const r = await fetch(url); if (!r.ok) throw new Error(url + " " + r.status); return r.json(); }

function layout(topo) {
  const W = 1000, H = 460;
  const tiers = {};
  let maxTier = 0;
  for (const s of topo.switches) { (tiers[s.tier] = tiers[s.tier] || []).push(s); maxTier = Math.max(maxTier, s.tier); }
  const rows = maxTier + 2;
  const y = (row) => 30 + (H - 60) * row / Math.max(1, rows - 1);
  for (let t = 0; t <= maxTier; t++) {
    const list = tiers[t] || [];
    list.forEach((s, i) => { state.pos[s.name] = { x: W * (i + 0.5) / list.length, y: y(maxTier - t), sw: s }; });
  }
  topo.hosts.forEach((h, i) => { state.pos[h.name] = { x: W * (i + 0.5) / topo.hosts.length, y: y(rows - 1), host: h }; });
}

function drawFabric() {
  const svg = $("fabric-svg");
  svg.textContent = "";
  const gLinks = el("g", {}, svg), gEle = el("g", { id: "elephant-layer" }, svg), gNodes = el("g", {}, svg);
  state.linkEls = {};
  const opts = [];
  for (const l of state.topo.links) {
    const a = state.pos[l.a], b = state.pos[l.b];
    if (!a || !b) continue;
    const line = el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "link", "data-link": l.ab, "data-reverse": l.ba }, gLinks);
    el("title", {}, line);
    line.addEventListener("click", () => selectChart(l.ab));
    state.linkEls[l.ab] = { line, l };
    opts.push(l.ab, l.ba);
  }
  for (const name in state.pos) {
    const p = state.pos[name];
    const g = el("g", { class: "node " + (p.host ? "host" : (p.sw.session === "reconciled" || p.sw.session === "active" ? "up" : "down")), "data-node": name }, gNodes);
    if (p.host) el("circle", { cx: p.x, cy: p.y, r: 9 }, g); else el("rect", { x: p.x - 22, y: p.y - 11, width: 44, height: 22, rx: 4 }, g);
    const t = el("text", { x: p.x, y: p.host ? p.y + 24 : p.y + 4 }, g);
    t.textContent = name;
    const tip = el("title", {}, g);
    tip.textContent = p.host ? p.host.ipv4 + " on " + p.host.switch + ":" + p.host.port : p.sw.role + " dpid " + p.sw.dpid + " session " + p.sw.session;
  }
  const sel = $("chart-link");
  sel.textContent = "";
  for (const o of opts) { const op = document.createElement("option"); op.value = op.textContent = o; sel.appendChild(op); }
  sel.onchange = () => selectChart(sel.value);
  if (!state.chartLink && opts.length) selectChart(state.topo.links.find((l) => !l.host)?.ab || opts[0]);
  colourLinks();
  drawElephants();
}

function colourLinks() {
  for (const name in state.linkEls) {
    const { line, l } = state.linkEls[name];
    const ab = state.util[l.ab], ba = state.util[l.ba];
    const u = Math.max(ab ?? 0, ba ?? 0);
    line.setAttribute("stroke", ab === undefined && ba === undefined ? "#bbb" : colour(u));
    line.setAttribute("data-utilization", u.toFixed(4));
    line.firstChild.textContent = l.ab + ": " + pct(ab) + "   " + l.ba + ": " + pct(ba) + "   capacity " + rate(l.capacityBps);
  }
}
const pct = (u) => (u === undefined || u === null) ? "?" : (100 * u).toFixed(1) + " %";

const palette = ["#1f5fbf", "#8e2fb3", "#d2691e", "#0a8f8f", "#b8860b", "#c2185b", "#2e7d32", "#5d4037"];
function drawElephants() {
  const g = $("elephant-layer");
  if (!g) return;
  g.textContent = "";
  state.elephants.forEach((e, i) => {
    const pts = e.path.map((n) => state.pos[n]).filter((p) => p);
    if (pts.length < 2) return;
    const off = ((i % 7) - 3) * 3;
    const poly = el("polyline", { points: pts.map((p) => (p.x + off) + "," + (p.y + off)).join(" "), stroke: palette[i % palette.length],
      class: "elephant" + (state.selected === e.key ? " selected" : ""), "data-flow": e.key }, g);
    const t = el("title", {}, poly);
    t.textContent = e.key + "  " + rate(e.bps) + "  " + e.path.join(" → ");
    poly.addEventListener("click", () => showFlow(e.key));
  });
}

function showFlow(key) {
  state.selected = key;
  const e = state.elephants.find((x) => x.key === key), f = state.flows.find((x) => x.key === key);
  const bps = (f || e || {}).bps || 0, err = (f || e || {}).errorPercent || 0;
  const path = e ? e.path.join(" → ") : (f && f.path ? f.path.join(" → ") : (f ? f.links.join(", ") : "?"));
  $("detail").textContent = key + ": " + rate(bps) + " ± " + err.toFixed(1) + " %, path " + path + (e && e.since ? ", placed " + new Date(e.since).toLocaleTimeString() : "");
  drawElephants();
}

function drawFlows() {
  const tb = $("flows");
  tb.textContent = "";
  for (const f of state.flows) {
    const tr = document.createElement("tr");
    tr.setAttribute("data-flow", f.key);
    if (f.elephant) tr.className = "elephant-row";
    const cells = [f.src + ":" + f.sport + " → " + f.dst + ":" + f.dport, rate(f.bps), f.errorPercent.toFixed(0) + " %",
      f.path ? f.path.join(" → ") : f.links.join(", ")];
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    tr.addEventListener("click", () => showFlow(f.key));
    tb.appendChild(tr);
  }
}

function addDecision(d) {
  const li = document.createElement("li");
  li.className = d.status === "failed" ? "failed" : "";
  li.textContent = "#" + d.id + " " + new Date(d.time * 1000).toLocaleTimeString() + " " + d.src + ":" + d.sport + " → " + d.dst + ":" + d.dport +
    " " + (d.from ? d.from.join(">") : "ecmp") + " ⇒ " + d.to.join(">") + " [" + d.status + "] " + d.reason;
  const ul = $("decisions");
  ul.insertBefore(li, ul.firstChild);
  while (ul.children.length > 50) ul.removeChild(ul.lastChild);
}

function addEvent(ev) {
  state.events++;
  const c = $("sse-count");
  c.textContent = state.events;
  c.setAttribute("data-count", state.events);
  const li = document.createElement("li");
  li.textContent = new Date(ev.timestamp).toLocaleTimeString() + " " + ev.type + " " + (ev.key || ev.switch || ev.link || ev.source || (ev.src ? ev.src + "→" + ev.dst : ""));
  const ul = $("events");
  ul.insertBefore(li, ul.firstChild);
  while (ul.children.length > 50) ul.removeChild(ul.lastChild);
}

async function selectChart(link) {
  state.chartLink = link;
  $("chart-link").value = link;
  await drawChart();
}

async function drawChart() {
  if (!state.chartLink) return;
  let h;
  try { h = await getJSON("/links/history/json?link=" + encodeURIComponent(state.chartLink)); } catch (e) { return; }
  const svg = $("chart-svg");
  svg.textContent = "";
  const now = Date.now(), W = 600, H = 160;
  for (const f of [0.25, 0.5, 0.75, 1]) el("line", { x1: 0, x2: W, y1: H - f * (H - 10), y2: H - f * (H - 10), stroke: "#eee" }, svg);
  const pts = h.points.map(([t, u]) => (W * (1 - (now - t) / 300000)).toFixed(1) + "," + (H - Math.min(1.2, u) * (H - 10)).toFixed(1));
  el("polyline", { points: pts.join(" "), fill: "none", stroke: "#1f5fbf", "stroke-width": 1.5, class: "history" }, svg);
  const t = el("text", { x: 4, y: 12, "font-size": 11 }, svg);
  t.textContent = link100(h);
}
const link100 = (h) => h.link + (h.points.length ? " now " + pct(h.points[h.points.length - 1][1]) : " (no rounds yet)") + ", 100 % at the top line";

async function refreshElephants() {
  try { state.elephants = await getJSON("/elephants/json"); drawElephants(); } catch (e) {}
}

async function start() {
  const legend = $("legend");
  for (const u of [0, 0.25, 0.5, 0.75, 1]) { const s = document.createElement("span"); s.style.background = colour(u); s.title = (u * 100) + " %"; legend.appendChild(s); }
  try {
    const v = await getJSON("/version");
    $("version").textContent = "v" + v.version + ", " + v.algorithm + ", policy " + v.policySource;
  } catch (e) {}
  state.topo = await getJSON("/topology/json");
  layout(state.topo);
  try { for (const l of await getJSON("/links/json")) state.util[l.link] = l.utilization; } catch (e) {}
  try { state.elephants = await getJSON("/elephants/json"); } catch (e) {}
  drawFabric();
  try { (await getJSON("/decisions/json?maxDecisions=20")).forEach(addDecision); } catch (e) {}
  document.body.setAttribute("data-ready", "1");
  $("status").textContent = "live";

  const flows = new EventSource("/flows/sse");
  flows.addEventListener("flows", (m) => { state.flows = JSON.parse(m.data); drawFlows(); $("updated").textContent = "updated " + new Date().toLocaleTimeString(); });
  flows.addEventListener("links", (m) => { state.util = JSON.parse(m.data).utilization; colourLinks(); });
  const events = new EventSource("/events/sse");
  events.onopen = () => { $("status").textContent = "live"; };
  events.onerror = () => { $("status").textContent = "reconnecting…"; };
  events.onmessage = (m) => addEvent(JSON.parse(m.data));
  for (const t of ["elephantStart", "elephantEnd", "move", "installFailure", "switchUp", "switchDown", "portDown", "portUp", "policyReload", "policyReloadFailed"]) {
    events.addEventListener(t, (m) => {
      const ev = JSON.parse(m.data);
      addEvent(ev);
      if (ev.decision) addDecision(ev.decision);
      if (t === "switchUp" || t === "switchDown") getJSON("/topology/json").then((tp) => { for (const s of tp.switches) if (state.pos[s.name]) state.pos[s.name].sw = s; drawFabric(); });
      refreshElephants();
    });
  }
  setInterval(drawChart, 5000);
  setInterval(refreshElephants, 5000);
}
start().catch((e) => { $("status").textContent = "error: " + e.message; });
"""#
}
