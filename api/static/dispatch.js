// Dispatcher board: map, container list, alerts, emptyings, tomorrow's collection list.
// Plain JS, no libraries; every text comes from the catalogue in #texts; times are shown in
// the zone the page names (LANDFILL_TIMEZONE); numbers are written by numbers.js. The server
// filters and pages the containers: the page holds one page of rows and the map's pins (or
// clusters), however big the site. The 30 s refresh updates the alert cards in place and puts
// the focus (and a half-typed note's caret) back where it was.
"use strict";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const LANG = document.body.dataset.lang;
const TZ = document.body.dataset.tz;  // LANDFILL_TIMEZONE, set by the server
// the session's CSRF token goes with every state-changing request; who acts comes from the login
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const CAN_ACT = document.body.dataset.canAct === "true";
const REFRESH_MS = 30000;
const PER_PAGE = 100;
const STATUS_ORDER = ["red", "orange", "grey", "yellow", "green"];
const SVG = "http://www.w3.org/2000/svg";
const state = { filter: "all", status: "", zone: "", settlement: "", page: 1, board: null, route: null };
const drafts = new Map();  // alert id -> the note being typed, kept until it is sent

// the board's filters as query parameters ("" for everything); the page number apart
function boardQuery() {
  const q = new URLSearchParams();
  if (state.filter !== "all") q.set("filter", state.filter);
  for (const name of ["status", "zone", "settlement"]) if (state[name]) q.set(name, state[name]);
  return q.toString();
}
function boardUrl() {
  const q = new URLSearchParams(boardQuery());
  q.set("page", String(state.page));
  q.set("per_page", String(PER_PAGE));
  return `/api/v1/dispatch/board?${q}`;
}

function t(key, values) {
  let text = TEXTS[key] ?? key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

const URGENCY = { green: 0, yellow: 1, grey: 2, orange: 3, red: 4 };

// "Full, overflows before collection": the reasons as one phrase, only the first capitalised
function reasonsText(reasons) {
  return reasons.map((r, i) => {
    const text = t(`reason.${r}`);
    return i === 0 ? text : text.charAt(0).toLowerCase() + text.slice(1);
  }).join(", ");
}

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ICU data for Kyrgyz is missing in some browsers: build "24.11 10:00" from parts instead
const timeParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
function fmtTime(iso) {
  if (!iso) return "";
  const p = Object.fromEntries(timeParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.day}.${p.month} ${p.hour}:${p.minute}`;
}
function fmtDate(ymd) {
  const [y, m, d] = ymd.split("-");
  const weekday = (new Date(Date.UTC(+y, +m - 1, +d)).getUTCDay() + 6) % 7; // Monday = 0
  return `${t(`weekday.${weekday}`)} ${d}.${m}.${y}`;
}
const fmtPct = (v) => (v === null || v === undefined ? "–" : `${formatNumber(v, 0, LANG)} %`);
const fmtKm = (v) => formatNumber(v, 1, LANG);

// how long something has lasted: "8 h", "35 min", "3 d"
function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 3600) return t("dispatch_page.minutes", { n: Math.max(0, Math.floor(seconds / 60)) });
  if (seconds < 86400 * 2) return t("dispatch_page.hours", { n: Math.floor(seconds / 3600) });
  return t("dispatch_page.days", { n: Math.floor(seconds / 86400) });
}

function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return t("age.none");
  if (seconds < 3600) return t("age.min", { n: Math.floor(seconds / 60) });
  if (seconds < 86400 * 2) return t("age.hour", { n: Math.floor(seconds / 3600) });
  return t("age.day", { n: Math.floor(seconds / 86400) });
}

function showError(text) {
  const box = document.getElementById("error");
  box.textContent = text || "";
  box.hidden = !text;
}

function toLogin() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

// the answers name settlements in the page's language (?lang=), whatever the cookie says
async function getJson(path) {
  const url = new URL(path, location.href);
  url.searchParams.set("lang", LANG);
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  if (resp.status === 401) toLogin();
  if (!resp.ok) throw new Error(`${path}: ${resp.status}`);
  return resp.json();
}

// ---- focus: a redraw puts it back on the same control, caret included ---------------------

function focusSelector(node) {
  if (!node || node === document.body || !node.dataset) return null;
  for (const name of ["ack", "confirm", "reject", "key"]) {
    if (node.dataset[name]) return `[data-${name}="${CSS.escape(node.dataset[name])}"]`;
  }
  const card = node.closest("li[data-alert]");
  if (card) {
    const part = node.classList.contains("note") ? ".note" : node.tagName === "SUMMARY" ? "summary" : null;
    if (part) return `li[data-alert="${CSS.escape(card.dataset.alert)}"] ${part}`;
  }
  return node.id ? `#${CSS.escape(node.id)}` : null;
}

function markFocus() {
  const node = document.activeElement;
  const selector = focusSelector(node);
  if (!selector) return null;
  const caret = typeof node.selectionStart === "number" ? [node.selectionStart, node.selectionEnd] : null;
  return { node, selector, caret };
}

function restoreFocus(mark) {
  if (!mark || document.activeElement === mark.node) return;
  const node = document.querySelector(mark.selector);
  if (!node) return;
  node.focus({ preventScroll: true });
  if (mark.caret && typeof node.setSelectionRange === "function") node.setSelectionRange(...mark.caret);
}

async function post(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body),
  });
  if (resp.status === 401) return toLogin();
  if (resp.status === 409) showError(t("error.conflict"));
  else if (resp.status === 403) showError(t("error.forbidden"));
  else if (!resp.ok) showError(t("error.failed"));
  else showError("");
  await refresh();
  return resp.ok;
}

// ---- map ----------------------------------------------------------------------------------

function projection(points, width) {
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  const minLat = Math.min(...lats), maxLat = Math.max(...lats);
  const minLon = Math.min(...lons), maxLon = Math.max(...lons);
  const kx = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180); // equirectangular
  const pad = 40;
  const spanX = Math.max((maxLon - minLon) * kx, 1e-4);
  const spanY = Math.max(maxLat - minLat, 1e-4);
  const scale = (width - 2 * pad) / spanX;
  const height = Math.min(Math.max(spanY * scale + 2 * pad, 240), 560);
  const scaleY = Math.min(scale, (height - 2 * pad) / spanY);
  const s = Math.min(scale, scaleY);
  const offX = (width - spanX * s) / 2, offY = (height - spanY * s) / 2;
  return {
    height,
    xy: (lat, lon) => [offX + (lon - minLon) * kx * s, offY + (maxLat - lat) * s],
  };
}

// Labels are placed greedily, most important first (the depot, stop numbers, settlements):
// each tries spots around its mark and takes the first whose box stays on the map and clear
// of every pin and every label already placed. A label with no room is hidden; it shows while
// its pin has the pointer or the focus (and the pin's <title> names it too).
const LABEL_SPOTS = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [1, 1], [-1, -1], [-1, 1]];
const LABEL_GAP = 2;
const LABEL_CLEAR = 2;

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function placeLabel(svg, label, taken, size) {
  const text = el("svg:text", { x: 0, y: 0, class: label.cls, "data-for": label.key }, label.text);
  svg.append(text);
  const bb = text.getBBox();
  const [w, h, ascent] = [bb.width, bb.height, -bb.y];
  const [ax, ay, r] = label.at;
  for (const reach of [r + LABEL_GAP, r + LABEL_GAP + 8]) {
    for (const [sx, sy] of LABEL_SPOTS) {
      const x = sx > 0 ? ax + reach : sx < 0 ? ax - reach - w : ax - w / 2;
      const y = sy > 0 ? ay + reach : sy < 0 ? ay - reach - h : ay - h / 2;
      const box = { x, y, w, h };
      // a little clear space round the label, so it never touches a pin or another label
      const clear = { x: x - LABEL_CLEAR, y: y - LABEL_CLEAR, w: w + 2 * LABEL_CLEAR, h: h + 2 * LABEL_CLEAR };
      if (x < 0 || y < 0 || x + w > size.width || y + h > size.height) continue;
      if (taken.some((other) => overlaps(clear, other))) continue;
      taken.push(box);
      text.setAttribute("x", x);
      text.setAttribute("y", y + ascent);
      return;
    }
  }
  // no room: hidden beside its mark until the mark is pointed at or focused
  text.setAttribute("x", Math.min(ax + r + LABEL_GAP, size.width - w));
  text.setAttribute("y", ay + ascent - h / 2);
  text.classList.add("label-hidden");
}

function markBox(x, y, r) {
  return { x: x - r, y: y - r, w: 2 * r, h: 2 * r };
}

function showLabels(ev, shown) {
  const key = ev.target.dataset && ev.target.dataset.key;
  if (!key) return;
  for (const text of document.querySelectorAll(`#map text[data-for="${CSS.escape(key)}"]`)) {
    text.classList.toggle("label-shown", shown);
  }
}

// many containers: one circle per cell with its count, in the worst status's colour
function drawClusters(svg, clusters, proj, taken) {
  for (const c of clusters) {
    const [x, y] = proj.xy(c.lat, c.lon);
    const r = 9 + 3 * Math.log2(c.count);
    taken.push(markBox(x, y, r));
    const title = [t("map.cluster", { n: c.count }),
      ...STATUS_ORDER.filter((s) => c.counts[s]).map((s) => `${t(`status.${s}`)}: ${c.counts[s]}`)];
    svg.append(
      el("svg:circle", {
        cx: x, cy: y, r, class: `pin cluster s-${c.status}`,
        "data-cluster": c.count, "data-status": c.status,
      }, el("svg:title", {}, title.join(" · "))),
      el("svg:text", { x, y: y + 4, class: "cluster-count", "text-anchor": "middle" }, String(c.count)),
    );
  }
}

function drawMap() {
  const svg = document.getElementById("map");
  svg.replaceChildren();
  const board = state.board;
  if (!board) return;
  const placed = board.map.pins;  // the filtered containers, every page; or clusters when many
  const clusters = board.map.clusters;
  const width = 600;
  const stops = state.route ? state.route.stops : [];
  const proj = projection([...placed, ...clusters, ...stops, board.depot], width);
  svg.setAttribute("viewBox", `0 0 ${width} ${Math.round(proj.height)}`);
  svg.append(el("svg:rect", { x: 0, y: 0, width, height: proj.height, class: "land" }));

  const route = state.route;
  if (route && route.stops.length) {
    const pts = [route.depot, ...route.stops, route.depot].map((p) => proj.xy(p.lat, p.lon).join(","));
    svg.append(el("svg:polyline", { points: pts.join(" "), class: "route-line", id: "route-line" }));
  }

  const taken = [];  // boxes of marks and placed labels, in map units
  const labels = [];
  const [dx, dy] = proj.xy(board.depot.lat, board.depot.lon);
  svg.append(el("svg:rect", {
    x: dx - 8, y: dy - 8, width: 16, height: 16, class: "depot", id: "depot", tabindex: 0, "data-key": "depot",
  }, el("svg:title", {}, t("map.depot"))));
  taken.push(markBox(dx, dy, 8));
  labels.push({ text: t("map.depot"), cls: "depot-label", key: "depot", at: [dx, dy, 8] });

  const pinAt = new Map();
  const settlements = new Map();
  for (const c of placed) {
    if (c.settlement && !settlements.has(c.settlement_name)) settlements.set(c.settlement_name, c.container);
  }
  // the most urgent pins are drawn last, so a full container is never hidden under a green one
  const byUrgency = [...placed].sort((a, b) => (URGENCY[a.status] ?? 0) - (URGENCY[b.status] ?? 0));
  for (const c of byUrgency) {
    const [x, y] = proj.xy(c.lat, c.lon);
    pinAt.set(c.container, [x, y, 7]);
    taken.push(markBox(x, y, 7));
    svg.append(
      el("svg:circle", {
        cx: x, cy: y, r: 7, class: `pin s-${c.status}`, tabindex: 0,
        "data-container": c.container, "data-status": c.status, "data-key": c.container,
      }, el("svg:title", {}, `${c.container} · ${c.settlement_name} · ${fmtPct(c.fill_pct)} · ${t(`status.${c.status}`)}`)),
    );
  }
  drawClusters(svg, clusters, proj, taken);
  stops.forEach((stop, i) => {
    const at = pinAt.get(stop.container) || [...proj.xy(stop.lat, stop.lon), 0];
    labels.push({ text: String(i + 1), cls: "stop-no", key: stop.container, at });
  });
  for (const [name, code] of settlements) {
    labels.push({ text: name, cls: "settlement", key: code, at: pinAt.get(code) });
  }
  const size = { width, height: proj.height };
  for (const label of labels) placeLabel(svg, label, taken, size);
}

// ---- list ---------------------------------------------------------------------------------

function forecastText(c) {
  const f = c.forecast;
  if (!f) return t("forecast.none");
  const parts = [];
  if (c.reasons.includes("full") || c.reasons.includes("overfull")) parts.push(t("forecast.is_full"));
  else if (f.never) parts.push(t("forecast.never"));
  else if (f.full_at) parts.push(t("forecast.full_at", { time: fmtTime(f.full_at) }));
  if (f.rate_pct_per_day !== null) {
    parts.push(t("forecast.rate", { rate: formatNumber(f.rate_pct_per_day, 1, LANG) }));
  }
  parts.push(t(`forecast.reliability.${f.reliability}`));
  return parts.join(" · ");
}

// one unit per device: % where it reports it, otherwise volts in the page's script
function battery(c) {
  if (c.fill.battery_pct !== null) return fmtPct(c.fill.battery_pct);
  if (c.fill.battery_v !== null) return `${formatNumber(c.fill.battery_v, 2, LANG)} ${t("dispatch_page.volt")}`;
  return "–";
}

// options: [{value, label}]; the value is what the filter sends, the label what a person reads
function fillSelect(id, options, chosen) {
  const select = document.getElementById(id);
  const first = select.options[0];  // "any"
  select.replaceChildren(first, ...options.map((o) => el("option", { value: o.value, selected: o.value === chosen }, o.label)));
  select.value = chosen;
}

function drawFilters(board) {
  const site = STATUS_ORDER.reduce((n, s) => n + board.counts[s], 0);
  for (const button of document.querySelectorAll("#filters button")) {
    const f = button.dataset.filter;
    button.setAttribute("aria-pressed", String(f === state.filter));
    button.querySelector(".count").textContent = f === "all" ? site : board.counts[f];
  }
  for (const option of document.querySelectorAll("#status-filter option[value]")) {
    if (option.value) option.textContent = `${t(`status.${option.value}`)} (${board.counts[option.value]})`;
  }
  document.getElementById("status-filter").value = state.status;
  fillSelect("zone-filter", board.zones.map((z) => ({ value: z, label: z })), state.zone);
  fillSelect("settlement-filter", board.settlement_options, state.settlement);
  const first = board.total ? (board.page - 1) * board.per_page + 1 : 0;
  const last = Math.min(board.total, board.page * board.per_page);
  document.getElementById("page-range").textContent = t("page.range", { from: first, to: last, total: board.total });
  document.getElementById("page-prev").disabled = board.page <= 1;
  document.getElementById("page-next").disabled = last >= board.total;
}

function drawList() {
  const body = document.querySelector("#containers tbody");
  body.replaceChildren();
  const board = state.board;
  if (!board) return;
  drawFilters(board);
  const rows = board.data;  // filtered, most urgent first and paged by the server
  // on a phone each row is a block and each cell says which column it is
  const heads = [...document.querySelectorAll("#containers thead th")].map((th) => th.textContent);
  for (const c of rows) {
    const reasons = reasonsText(c.reasons) || t(`status.${c.status}`);
    const cells = [
      el("td", { class: "code" }, el("span", { class: `dot s-${c.status}` }), c.container),
      el("td", {}, c.settlement_name),
      el("td", { class: "num" }, el("span", { class: "bar" }, el("span", { class: `s-${c.status}`, style: `width: ${Math.min(100, c.fill.filtered_pct ?? 0)}%` })), " ", fmtPct(c.fill.filtered_pct)),
      el("td", { class: "status" }, reasons),
      el("td", {}, forecastText(c)),
      el("td", {}, fmtAge(c.fill.age_s)),
      el("td", { class: "num battery" }, battery(c)),
      el("td", {}, c.collection_weekdays.map((d) => t(`weekday.${d}`)).join(" ")),
    ];
    cells.forEach((cell, i) => cell.setAttribute("data-label", heads[i]));
    body.append(el("tr", { "data-container": c.container, "data-status": c.status }, cells));
  }
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, t("list.empty"))));
  document.body.dataset.board = boardQuery();  // what the list shows (tests wait for it)
}

// ---- alerts, emptyings, route -------------------------------------------------------------

// An alert's card is made once and then updated in place, so a refresh keeps the note being
// typed, its caret, the focus and an opened history.
function alertCard(a) {
  const card = el("li", { class: "card", "data-alert": a.id, "data-container": a.container },
    el("span", { class: "dot" }),
    el("strong", { class: "what" }),
    el("span", { class: "where" }),
    el("span", { class: "muted when" }),
    el("div", { class: "ack-box" }),
    el("details", { class: "history" }, el("summary", {}, t("dispatch_page.history")), el("ul", {})));
  return card;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function ackedText(ack) {
  return [t("alerts.acked", { by: ack.by, time: fmtTime(ack.at) }), ack.note ? el("q", { class: "saved-note" }, ack.note) : null];
}

function noteForm(a) {
  const input = el("input", {
    class: "note", placeholder: t("alerts.note"), maxlength: 500, "aria-label": t("alerts.note"),
  });
  input.value = drafts.get(a.id) || "";
  input.addEventListener("input", () => drafts.set(a.id, input.value));
  const button = el("button", { type: "button", "data-ack": a.id }, t("alerts.ack"));
  button.addEventListener("click", () => acknowledge(a.id));
  return el("div", { class: "actions" }, input, button);
}

function updateCard(card, a) {
  const status = a.status || "grey";
  card.className = `card sev-${a.severity} st-${status}`;
  card.dataset.status = status;
  card.querySelector(".dot").className = `dot s-${status}`;
  setText(card.querySelector(".what"), `${t(`kind.${a.kind}`)} · ${a.container}`);
  const where = [a.settlement_name, fmtPct(a.fill_pct), t("dispatch_page.open_for", { age: fmtDuration(a.open_s) })];
  setText(card.querySelector(".where"), ` ${where.filter(Boolean).join(" · ")}`);
  setText(card.querySelector(".when"), ` · ${t(`severity.${a.severity}`)} · ${t("alerts.since", { time: fmtTime(a.since) })}`);
  const box = card.querySelector(".ack-box");
  const mode = a.acknowledged ? "acked" : CAN_ACT ? "open" : "read";
  if (mode === "acked") box.replaceChildren(el("p", { class: "acked" }, ackedText(a.acknowledged)));
  else if (card.dataset.mode !== mode) box.replaceChildren(mode === "open" ? noteForm(a) : "");
  card.dataset.mode = mode;
  const history = [el("li", {}, t("dispatch_page.raised", { time: fmtTime(a.since) }))];
  if (a.acknowledged) history.push(el("li", {}, ackedText(a.acknowledged)));
  card.querySelector(".history ul").replaceChildren(...history);
}

function drawAlerts(alerts) {
  const list = document.getElementById("alerts");
  const old = new Map([...list.querySelectorAll(":scope > li[data-alert]")].map((li) => [li.dataset.alert, li]));
  const wanted = alerts.data.map((a) => {
    const card = old.get(a.id) || alertCard(a);
    updateCard(card, a);
    return card;
  });
  if (!wanted.length) wanted.push(el("li", { class: "muted" }, t("alerts.none")));
  for (const li of [...list.children]) if (!wanted.includes(li)) li.remove();
  // move only what is out of place: a card that moves loses the focus inside it
  wanted.forEach((li, i) => {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const id of drafts.keys()) if (!old.has(id) && !alerts.data.some((a) => a.id === id)) drafts.delete(id);
}

// the card after (or else before) cards[i] that still has a button: where the focus goes next
function neighbour(cards, i, button) {
  return [...cards.slice(i + 1), ...cards.slice(0, i).reverse()].find((c) => c.querySelector(button));
}

// send the acknowledgement; the focus then goes to the next alert still open (or the one
// before), never back to the top of the page
async function acknowledge(id) {
  const cards = [...document.querySelectorAll("#alerts li[data-alert]")];
  const i = cards.findIndex((c) => c.dataset.alert === id);
  const next = neighbour(cards, i, "button[data-ack]");
  const note = cards[i].querySelector(".note").value;
  const ok = await post(`/api/v1/dispatch/alerts/${encodeURIComponent(id)}/ack`, { note });
  if (ok) drafts.delete(id);
  const target = (next && document.querySelector(`button[data-ack="${CSS.escape(next.dataset.alert)}"]`))
    || document.querySelector(`li[data-alert="${CSS.escape(id)}"] summary`);
  if (target && document.activeElement !== target) target.focus();
}

function drawEmptyings(emptyings) {
  const list = document.getElementById("emptyings");
  list.replaceChildren();
  const shown = emptyings.data.slice(0, 12);
  if (!shown.length) list.append(el("li", { class: "muted" }, t("emptyings.none")));
  for (const e of shown) {
    const change = t("emptyings.change", { before: Math.round(e.before_pct ?? 0), after: Math.round(e.after_pct ?? 0) });
    const decide = (what) => async () => {
      const cards = [...document.querySelectorAll("#emptyings li[data-emptying]")];
      const next = neighbour(cards, cards.findIndex((c) => c.dataset.emptying === e.id), "button[data-confirm]");
      await post(`/api/v1/dispatch/emptyings/${encodeURIComponent(e.id)}/${what}`, {});
      const target = next && document.querySelector(`button[data-confirm="${CSS.escape(next.dataset.emptying)}"]`);
      if (target) target.focus();
    };
    const decided = e.decision
      ? el("p", { class: `decided ${e.decision.decision}` }, t(`emptyings.${e.decision.decision}`, { by: e.decision.by }))
      : !CAN_ACT ? null : el("div", { class: "actions" },
        el("button", { type: "button", "data-confirm": e.id, onclick: decide("confirm") }, t("emptyings.confirm")),
        el("button", { type: "button", "data-reject": e.id, class: "secondary", onclick: decide("reject") }, t("emptyings.reject")));
    list.append(el("li", { class: "card", "data-emptying": e.id },
      el("strong", {}, `${e.container} · ${change}`),
      el("span", { class: "muted" }, ` ${fmtTime(e.ts)}`),
      decided));
  }
}

function drawRoute() {
  const route = state.route;
  const list = document.getElementById("route");
  list.replaceChildren();
  if (!route) return;
  document.getElementById("route-date").textContent = fmtDate(route.date);
  if (!route.stops.length) list.append(el("li", { class: "muted none" }, t("route.none")));
  for (const s of route.stops) {
    list.append(el("li", { "data-container": s.container, "data-status": s.status },
      el("span", { class: `dot s-${s.status}` }),
      el("strong", {}, s.container), ` ${s.settlement_name} · ${fmtPct(s.fill_pct)} · `,
      reasonsText(s.why),
      " ", el("span", { class: "muted leg" }, t("route.leg", { km: fmtKm(s.leg_km) }))));
  }
  const total = document.getElementById("route-total");
  total.textContent = t("route.total", { km: fmtKm(route.km), n: route.count });
  if (route.unplaced.length) total.append(el("br"), t("route.unplaced", { codes: route.unplaced.join(", ") }));
}

async function refresh() {
  try {
    const [board, alerts, emptyings, route] = await Promise.all([
      getJson(boardUrl()),
      getJson("/api/v1/dispatch/alerts"),
      getJson("/api/v1/dispatch/emptyings"),
      getJson("/api/v1/dispatch/route"),
    ]);
    state.board = board;
    state.route = route;
    const focus = markFocus();
    drawMap();
    drawList();
    drawAlerts(alerts);
    drawEmptyings(emptyings);
    drawRoute();
    restoreFocus(focus);
    document.getElementById("updated").textContent = t("app.updated", { time: fmtTime(board.generated_at) });
    document.body.dataset.loaded = "true";
    if (document.getElementById("error").textContent === t("error.load")) showError("");
  } catch (err) {
    console.error(err);
    showError(t("error.load"));
  }
}

document.getElementById("refresh").addEventListener("click", refresh);
// a changed filter or page asks the server for that page of the board alone
async function loadBoard() {
  try {
    const board = await getJson(boardUrl());
    state.board = board;
    const focus = markFocus();
    drawMap();
    drawList();
    restoreFocus(focus);
  } catch (err) {
    console.error(err);
    showError(t("error.load"));
  }
}
function choose(changes) {
  Object.assign(state, changes);
  loadBoard();
}
for (const button of document.querySelectorAll("#filters button")) {
  button.addEventListener("click", () => choose({ filter: button.dataset.filter, page: 1 }));
}
for (const [id, name] of [["status-filter", "status"], ["zone-filter", "zone"], ["settlement-filter", "settlement"]]) {
  document.getElementById(id).addEventListener("change", (ev) => choose({ [name]: ev.target.value, page: 1 }));
}
document.getElementById("page-prev").addEventListener("click", () => choose({ page: Math.max(1, state.page - 1) }));
document.getElementById("page-next").addEventListener("click", () => choose({ page: state.page + 1 }));
const map = document.getElementById("map");
map.addEventListener("focusin", (ev) => showLabels(ev, true));
map.addEventListener("focusout", (ev) => showLabels(ev, false));
map.addEventListener("mouseover", (ev) => showLabels(ev, true));
map.addEventListener("mouseout", (ev) => showLabels(ev, false));
refresh();
setInterval(refresh, REFRESH_MS);
