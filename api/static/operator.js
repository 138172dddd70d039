// Operator console: live weight (server-sent events), vehicles on site, weigh in and out,
// print. Plain JS, no libraries; every text comes from the catalogue in #texts; times are shown
// in the zone the page names (LANDFILL_TIMEZONE). Usable with the keyboard alone (F-keys).
// When the API or the broker is away, a banner says so, the typed form is kept and the
// stream and the lists reconnect by themselves.
"use strict";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const LANG = document.body.dataset.lang;
const TZ = document.body.dataset.tz;
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const CAPTURE_MINUTES = Number(document.body.dataset.captureMinutes) || 30;
const REFRESH_MS = 5000;
const REGISTRY_MS = 300000;
const STREAM_RETRY_MS = 2000;
const MAX_EVENTS = 12;

const $ = (id) => document.getElementById(id);
const state = {
  scale: $("scale").value,
  vehicles: [],        // suggestions shown
  picked: null,        // the vehicle chosen for the form
  open: [],            // open tickets: vehicles on site
  selectedOpen: null,  // the open ticket weigh-out completes
  ready: null,         // the newest unused capture of the scale
  live: null,          // the last live weight
  last: null,          // the last ticket completed here
  stream: null,
  busy: false,
  online: { api: true, stream: true, broker: true, edge: true },
  seenUnticketed: new Set(),
};
window.consoleTimings = [];  // {action, ms}: key press to the answer on screen (bench/console.py)

function t(key, values) {
  let text = TEXTS[key] ?? key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
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

// 14 560 with a thin space, as the printed ticket has it
const kg = (v) => (v === null || v === undefined ? "—" : String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009"));
const kgText = (v) => t("ticket.kg", { kg: kg(v) });
const timeParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
function fmtTime(iso, withDay) {
  if (!iso) return "";
  const p = Object.fromEntries(timeParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  const time = `${p.hour}:${p.minute}:${p.second}`;
  return withDay ? `${p.day}.${p.month} ${time}` : time;
}

// ---- connection state ---------------------------------------------------------------------

function setOnline(what, ok) {
  state.online[what] = ok;
  $(`banner-${what}`).hidden = ok;
  const stale = !state.online.stream || !state.online.broker || !state.online.edge;
  $("weight").dataset.stale = String(stale);
}

function toLogin() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

class Unavailable extends Error {}

// every request: a network failure or a gateway error is "the API is away", not a refusal
async function api(path, options) {
  let resp;
  try {
    resp = await fetch(path, { ...options, headers: { Accept: "application/json", ...(options?.headers || {}) } });
  } catch (err) {
    setOnline("api", false);
    throw new Unavailable(String(err));
  }
  if (resp.status === 401) {
    toLogin();
    throw new Unavailable("login");
  }
  if ([502, 503, 504].includes(resp.status) && !(resp.headers.get("content-type") || "").includes("json")) {
    setOnline("api", false);
    throw new Unavailable(String(resp.status));
  }
  setOnline("api", true);
  return resp;
}

async function getJson(path) {
  const resp = await api(path);
  if (!resp.ok) throw new Error(`${path}: ${resp.status}`);
  return resp.json();
}

function postJson(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body),
  });
}

// ---- live weight: server-sent events -------------------------------------------------------

function showWeight(w) {
  state.live = w;
  markReady();
  const digits = $("weight");
  const mode = w.overload ? "overload" : w.stable ? "stable" : "moving";
  digits.textContent = w.overload ? "- - -" : kg(w.weight_kg);
  digits.dataset.kg = String(w.weight_kg);
  digits.dataset.state = mode;
  const badge = $("weight-state");
  badge.dataset.state = mode;
  badge.textContent = t(`op.state.${mode}`);
}

// newest first, by when it happened (a weight with no ticket is found later than it was taken)
function addEvent(kind, text, when, warn) {
  const list = $("events");
  list.querySelector(".none")?.remove();
  const at = Date.parse(when);
  const item = el("li", { class: warn ? "warn" : null, "data-event": kind, "data-at": at }, el("time", {}, fmtTime(when, true)), text);
  const later = [...list.children].find((li) => Number(li.dataset.at) < at);
  list.insertBefore(item, later || null);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

const WARN_EVENTS = new Set(["left_before_capture", "not_back_to_zero", "overload", "underload", "no_data", "outbox_failed"]);

function connectStream() {
  if (state.stream) state.stream.close();
  if (!state.scale) return;
  const stream = new EventSource(`/api/v1/scales/${encodeURIComponent(state.scale)}/live`);
  state.stream = stream;
  stream.onopen = () => setOnline("stream", true);
  stream.onerror = () => {
    setOnline("stream", false);
    if (stream.readyState === EventSource.CLOSED) {
      // refused (401, 404, a proxy's 502): ask again later; api() sends a lost login to the form
      setTimeout(() => getJson("/api/v1/auth/me").then(connectStream, connectStream), STREAM_RETRY_MS);
    }
  };
  const on = (name, handler) => stream.addEventListener(name, (ev) => handler(JSON.parse(ev.data)));
  on("weight", showWeight);
  on("broker", (b) => setOnline("broker", b.connected));
  on("edge", (e) => setOnline("edge", e.online));
  on("event", (e) => {
    if (e.event === "data_resumed") setOnline("edge", true);
    const weight = e.weight_kg === null ? "" : ` · ${kgText(e.weight_kg)}`;
    addEvent(e.event, `${t(`event.${e.event}`)}${weight}`, e.ts, WARN_EVENTS.has(e.event));
  });
  on("capture", () => refreshReady());  // ingest stored a capture: it can weigh a ticket now
}

// ---- what the scale house sees: ready capture, vehicles on site, weights with no ticket -------

async function refreshReady() {
  if (!state.scale) return;
  const since = new Date(Date.now() - CAPTURE_MINUTES * 60000).toISOString();
  const query = new URLSearchParams({ scale: state.scale, unused: "true", limit: "1", since });
  const found = await getJson(`/api/v1/captures?${query}`);
  state.ready = found.data[0] || null;
  const box = $("ready");
  box.dataset.capture = state.ready ? state.ready.id : "";
  box.dataset.kg = state.ready ? String(state.ready.weight_kg) : "";
  box.textContent = state.ready
    ? t("op.ready", { kg: kg(state.ready.weight_kg), time: fmtTime(state.ready.ts) })
    : t("op.ready_none");
  box.append(el("span", { class: "elsewhere" }, t("op.ready_elsewhere")));
  markReady();
}

// a weight to use that the scale no longer shows may be the previous vehicle's: say so
function markReady() {
  const ready = state.ready;
  const live = state.live;
  const away = Boolean(ready && live && Math.abs(live.weight_kg - ready.weight_kg) > 2 * (ready.division_kg || 20));
  $("ready").dataset.elsewhere = String(away);
}

function drawOnSite() {
  const body = $("on-site").querySelector("tbody");
  body.replaceChildren();
  $("onsite-count").textContent = state.open.length ? `(${state.open.length})` : "";
  if (!state.open.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("op.on_site_none"))));
  state.open.forEach((ticket, i) => {
    const first = ticket.weights[0];
    const selected = state.selectedOpen && state.selectedOpen.id === ticket.id;
    body.append(el("tr", {
      "data-ticket": ticket.id, "data-plate": ticket.plate, tabindex: 0,
      "aria-selected": selected ? "true" : "false",
      onclick: () => takeOnSite(i),
    },
    el("td", {}, i < 9 ? String(i + 1) : ""),
    el("td", {}, ticket.plate_display),
    el("td", {}, ticket.client_name || "—"),
    el("td", { class: "num" }, first ? kgText(first.weight_kg) : "—"),
    el("td", {}, fmtTime(ticket.opened_at, true))));
  });
}

async function refreshOnSite() {
  const found = await getJson("/api/v1/tickets?status=open&limit=200");
  state.open = found.data;
  if (state.selectedOpen) state.selectedOpen = state.open.find((x) => x.id === state.selectedOpen.id) || null;
  drawOnSite();
  describeVehicle();
}

async function refreshUnticketed() {
  const found = await getJson("/api/v1/tickets/unticketed-captures?hours=12");
  for (const c of found) {
    if (state.seenUnticketed.has(c.id) || c.scale !== state.scale) continue;
    state.seenUnticketed.add(c.id);
    addEvent("unticketed", t("op.unticketed", { kg: kg(c.weight_kg) }), c.ts, true);
  }
}

async function refresh() {
  const results = await Promise.allSettled([refreshReady(), refreshOnSite(), refreshUnticketed()]);
  for (const r of results) if (r.status === "rejected" && !(r.reason instanceof Unavailable)) console.error(r.reason);
  document.body.dataset.loaded = "true";
}

async function loadRegistry() {
  try {
    const [clients, wastes] = await Promise.all([getJson("/api/v1/clients"), getJson("/api/v1/waste-types")]);
    fillSelect($("client"), clients.map((c) => [c.code, c.status === "on_hold" ? t("op.on_hold", { name: c.name }) : c.name]));
    fillSelect($("waste"), wastes.map((w) => [w.code, w.accepted ? w[`name_${LANG}`] || w.code : t("op.refused_waste", { name: w[`name_${LANG}`] || w.code })]));
  } catch (err) {
    if (!(err instanceof Unavailable)) console.error(err);
  }
}

function fillSelect(select, options) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "" }, t("op.none")));
  for (const [value, label] of options) select.append(el("option", { value }, label));
  select.value = keep;
}

// ---- plate entry with suggestions -----------------------------------------------------------

let suggestTimer = null;
const compact = (text) => text.replace(/[\s-]/g, "").toUpperCase();
let suggestIndex = -1;

function closeSuggestions() {
  $("suggestions").hidden = true;
  $("plate").setAttribute("aria-expanded", "false");
  suggestIndex = -1;
}

function drawSuggestions() {
  const list = $("suggestions");
  list.replaceChildren();
  state.vehicles.slice(0, 8).forEach((v, i) => {
    const onSite = state.open.some((x) => x.plate === v.plate);
    list.append(el("li", {
      role: "option", id: `sug-${i}`, "data-plate": v.plate, "aria-selected": i === suggestIndex ? "true" : "false",
      onclick: () => pick(v),
    }, el("span", {}, v.plate_display), el("span", { class: "tag" }, onSite ? t("op.on_site") : v.client || "")));
  });
  list.hidden = state.vehicles.length === 0;
  $("plate").setAttribute("aria-expanded", String(!list.hidden));
  if (suggestIndex >= 0) $("plate").setAttribute("aria-activedescendant", `sug-${suggestIndex}`);
  else $("plate").removeAttribute("aria-activedescendant");
}

async function suggest() {
  const text = $("plate").value.trim();
  if (!text) {
    state.vehicles = [];
    closeSuggestions();
    return;
  }
  try {
    const found = await getJson(`/api/v1/vehicles?${new URLSearchParams({ q: text, active: "true" })}`);
    if ($("plate").value.trim() !== text) return;  // typed on meanwhile
    state.vehicles = found;
    suggestIndex = found.length ? 0 : -1;
    const typed = compact(text);
    const exact = found.find((v) => v.plate === typed || compact(v.plate_display) === typed);
    if (exact && found.length === 1) pick(exact);  // the whole plate typed: no need to choose
    else drawSuggestions();
  } catch (err) {
    if (!(err instanceof Unavailable)) console.error(err);
  }
}

function pick(vehicle) {
  state.picked = vehicle;
  $("plate").value = vehicle.plate_display;
  $("client").value = vehicle.client || "";
  $("waste").value = vehicle.waste_type || "";
  const tare = vehicle.tare_state === "valid" && vehicle.tare_kg;
  $("tare-row").hidden = !tare;
  $("stored-tare").checked = false;
  if (tare) {
    const until = vehicle.tare_expires_at ? fmtTime(vehicle.tare_expires_at, true).slice(0, 5) : "—";
    $("tare-text").textContent = t("op.stored_tare", { kg: kg(vehicle.tare_kg), date: until });
  }
  state.selectedOpen = state.open.find((x) => x.plate === vehicle.plate) || null;
  closeSuggestions();
  describeVehicle();
  drawOnSite();
}

function describeVehicle() {
  const info = $("vehicle-info");
  const open = state.selectedOpen;
  info.classList.toggle("on-site", Boolean(open));
  if (open) {
    const first = open.weights[0];
    info.textContent = t("op.vehicle_on_site", { time: fmtTime(open.opened_at, true), kg: kg(first?.weight_kg) });
  } else if (state.picked) {
    info.textContent = t("op.vehicle_new");
  } else {
    info.textContent = "";
  }
}

function takeOnSite(index) {
  const ticket = state.open[index];
  if (!ticket) return;
  state.selectedOpen = ticket;
  state.picked = { plate: ticket.plate, plate_display: ticket.plate_display, client: ticket.client, waste_type: ticket.waste_type };
  $("plate").value = ticket.plate_display;
  $("client").value = ticket.client || "";
  $("waste").value = ticket.waste_type || "";
  $("tare-row").hidden = true;
  closeSuggestions();
  describeVehicle();
  drawOnSite();
}

function clearForm() {
  for (const id of ["plate", "zone", "note"]) $(id).value = "";
  $("client").value = "";
  $("waste").value = "";
  $("tare-row").hidden = true;
  $("stored-tare").checked = false;
  state.picked = null;
  state.selectedOpen = null;
  state.vehicles = [];
  closeSuggestions();
  describeVehicle();
  drawOnSite();
  $("plate").focus();
}

// ---- weighing -------------------------------------------------------------------------------

function say(kind, text, hint) {
  const box = $("message");
  box.className = kind;
  box.textContent = text;
  if (hint) box.append(el("span", { class: "hint" }, hint));
  box.dataset.code = "";
}

async function refusal(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (body && typeof body.detail === "string" && body.code) {
    say("refusal", body.detail);  // the server's sentence, already in this page's language
    $("message").dataset.code = body.code;
  } else if (resp.status === 403) {
    say("error", t("error.forbidden"));
  } else {
    say("error", t("error.failed"));
  }
}

function lostAnswer(err) {
  if (err instanceof Unavailable) say("error", t("op.banner.api"), t("op.retry_note"));
  else say("error", t("error.failed"));
}

// press to answer on screen, for the benchmark
function timed(action, started) {
  window.consoleTimings.push({ action, ms: performance.now() - started });
}

async function weighIn(started) {
  if (state.busy) return;
  const plate = $("plate").value.trim();
  if (!plate) return say("error", t("op.need_plate"));
  if (!state.ready) return say("error", t("op.need_capture"));
  const body = { plate, capture_id: state.ready.id, zone: $("zone").value.trim(), note: $("note").value.trim() };
  if ($("client").value) body.client = $("client").value;
  if ($("waste").value) body.waste_type = $("waste").value;
  if (!$("tare-row").hidden && $("stored-tare").checked) body.stored_tare = true;
  state.busy = true;
  try {
    const resp = await postJson("/api/v1/tickets", body);
    if (!resp.ok) return await refusal(resp);
    const ticket = await resp.json();
    state.ready = null;
    if (ticket.status === "completed") {
      showTicket(ticket);
      say("ok", t("op.completed", { number: ticket.number, kg: kg(ticket.net_kg) }));
    } else {
      state.open = [ticket, ...state.open];
      say("ok", t("op.opened", { plate: ticket.plate_display, kg: kg(ticket.weights[0].weight_kg) }));
    }
    clearForm();
    timed("weigh_in", started);
    refresh();
  } catch (err) {
    lostAnswer(err);
  } finally {
    state.busy = false;
  }
}

async function weighOut(started) {
  if (state.busy) return;
  const open = state.selectedOpen;
  if (!open) return say("error", $("plate").value.trim() ? t("op.need_open") : t("op.need_plate"));
  if (!state.ready) return say("error", t("op.need_capture"));
  state.busy = true;
  try {
    const resp = await postJson(`/api/v1/tickets/${open.id}/second`, { capture_id: state.ready.id });
    if (!resp.ok) return await refusal(resp);
    const ticket = await resp.json();
    state.ready = null;
    state.open = state.open.filter((x) => x.id !== ticket.id);
    showTicket(ticket);
    say("ok", t("op.completed", { number: ticket.number, kg: kg(ticket.net_kg) }));
    clearForm();
    timed("weigh_out", started);
    $("print-a5").focus();
    refresh();
  } catch (err) {
    lostAnswer(err);
  } finally {
    state.busy = false;
  }
}

function showTicket(ticket) {
  state.last = ticket;
  const box = $("ticket");
  box.dataset.ticket = String(ticket.id);
  box.dataset.number = ticket.number || "";
  box.dataset.net = String(ticket.net_kg);
  const row = (key, value, cls) => el("tr", { class: cls }, el("th", {}, t(key)), el("td", {}, kgText(value)));
  box.replaceChildren(
    el("p", {}, el("span", { class: "number" }, t("ticket.number", { number: ticket.number })), " · ", ticket.plate_display),
    el("p", { class: "muted" }, ticket.client_name || "—"),
    el("table", {}, row("ticket.gross", ticket.gross_kg), row("ticket.tare", ticket.tare_kg), row("ticket.net", ticket.net_kg, "net")),
  );
  $("print-a5").disabled = false;
  $("print-roll").disabled = false;
  const pdf = $("pdf");
  pdf.href = `/api/v1/tickets/${ticket.id}/pdf?lang=${LANG}`;
  pdf.classList.remove("disabled");
  pdf.removeAttribute("aria-disabled");
}

// the ticket's own page (A5 or the 80 mm roll, its print CSS) in a frame, and the print dialog
function printTicket(paper) {
  if (!state.last) return say("error", t("op.need_ticket"));
  const frame = $("print-frame");
  frame.onload = () => {
    frame.dataset.loaded = `${state.last.id}:${paper}`;
    frame.contentWindow.focus();
    frame.contentWindow.print();
  };
  frame.src = `/api/v1/tickets/${state.last.id}/html?paper=${paper}&lang=${LANG}`;
  say("ok", t("op.printing", { number: state.last.number, paper: paper === "a5" ? "A5" : "80 mm" }));
}

function openPdf() {
  if (!state.last) return say("error", t("op.need_ticket"));
  window.open($("pdf").href, "_blank", "noopener");
}

// ---- keyboard -------------------------------------------------------------------------------

function onPlateKey(ev) {
  const open = !$("suggestions").hidden;
  if (ev.key === "ArrowDown" && open) {
    suggestIndex = Math.min(suggestIndex + 1, Math.min(state.vehicles.length, 8) - 1);
  } else if (ev.key === "ArrowUp" && open) {
    suggestIndex = Math.max(suggestIndex - 1, 0);
  } else if (ev.key === "Enter") {
    const chosen = open ? state.vehicles[suggestIndex] : null;
    if (chosen) pick(chosen);
    ev.preventDefault();
    return;
  } else {
    return;
  }
  ev.preventDefault();
  drawSuggestions();
}

const KEYS = {
  F2: (started) => weighIn(started),
  F3: (started) => weighOut(started),
  F4: () => { $("plate").focus(); $("plate").select(); },
  F8: () => printTicket("a5"),
  F9: () => printTicket("80mm"),
  F10: () => openPdf(),
  Escape: () => ($("suggestions").hidden ? clearForm() : closeSuggestions()),
};

document.addEventListener("keydown", (ev) => {
  const started = performance.now();
  if (ev.altKey && /^Digit[1-9]$/.test(ev.code)) {
    ev.preventDefault();
    takeOnSite(Number(ev.code.slice(5)) - 1);
    return;
  }
  const action = KEYS[ev.key];
  if (!action || ev.ctrlKey || ev.metaKey) return;
  ev.preventDefault();  // F3 would search, F10 open the browser's menu
  action(started);
});

$("plate").addEventListener("keydown", onPlateKey);
$("plate").addEventListener("input", () => {
  state.picked = null;
  state.selectedOpen = null;
  describeVehicle();
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(suggest, 120);
});
$("plate").addEventListener("blur", () => setTimeout(closeSuggestions, 150));
$("on-site").addEventListener("keydown", (ev) => {
  const row = ev.target.closest("tr[data-ticket]");
  if (row && ev.key === "Enter") takeOnSite(state.open.findIndex((x) => String(x.id) === row.dataset.ticket));
});
$("weigh-in").addEventListener("click", () => weighIn(performance.now()));
$("weigh-out").addEventListener("click", () => weighOut(performance.now()));
$("clear").addEventListener("click", clearForm);
$("print-a5").addEventListener("click", () => printTicket("a5"));
$("print-roll").addEventListener("click", () => printTicket("80mm"));
$("scale").addEventListener("change", () => {
  state.scale = $("scale").value;
  connectStream();
  refresh();
});

// ---- start ----------------------------------------------------------------------------------

connectStream();
loadRegistry();
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(loadRegistry, REGISTRY_MS);
$("plate").focus();
