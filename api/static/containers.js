// Containers page: fill the form from a row, send it to the API, show each 422 error beside
// its field. Plain JS, no libraries; every text comes from the catalogue in #texts.
"use strict";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const FORM = document.getElementById("container-form");
const FIELDS = ["code", "settlement", "zone", "lat", "lon", "volume_m3", "empty_mm", "full_mm",
  "collection_weekdays", "device", "model", "active"];
const NUMBERS = new Set(["lat", "lon", "volume_m3", "empty_mm", "full_mm"]);
// rules between fields have no field in the 422's loc: the field the message belongs beside
const RULE_FIELD = {
  full_below_empty: "full_mm", full_blind_zone: "full_mm", both_coordinates: "lat",
  clear_below_full: "full_mm",
};
let editing = null;  // the code of the container in the form, or null when adding one

function t(key, values = {}) {
  const text = TEXTS[key];
  if (text === undefined) return null;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

function show(id, text) {
  const el = document.getElementById(id);
  el.textContent = text || "";
  el.hidden = !text;
}

function clearErrors() {
  for (const name of FIELDS) {
    show(`err-${name}`, "");
    const input = FORM.elements[name];
    if (input && input.setAttribute) input.removeAttribute("aria-invalid");
  }
  show("form-error", "");
}

// a typed number: a comma is a decimal mark too; text that is no number goes as it is, so the
// API says what is wrong with it
function numberOf(text) {
  const clean = text.trim().replace(",", ".");
  if (clean === "") return null;
  const value = Number(clean);
  return Number.isFinite(value) ? value : text.trim();
}

function values() {
  const body = {};
  for (const name of FIELDS) {
    if (name === "collection_weekdays") {
      body[name] = [...FORM.querySelectorAll("input[name=collection_weekdays]:checked")]
        .map((box) => Number(box.value));
    } else if (name === "active") {
      body[name] = FORM.elements.active.checked;
    } else if (NUMBERS.has(name)) {
      const value = numberOf(FORM.elements[name].value);
      // an empty coordinate is "no place"; any other empty number keeps its default or value
      if (value !== null || name === "lat" || name === "lon") body[name] = value;
    } else {
      const text = FORM.elements[name].value.trim();
      body[name] = text === "" && (name === "device" || name === "model") ? null : text;
    }
  }
  return body;
}

function fill(data) {
  for (const name of FIELDS) {
    const value = data ? data[name] : null;
    if (name === "collection_weekdays") {
      for (const box of FORM.querySelectorAll("input[name=collection_weekdays]")) {
        box.checked = (value || []).includes(Number(box.value));
      }
    } else if (name === "active") {
      FORM.elements.active.checked = data ? Boolean(value) : true;
    } else {
      FORM.elements[name].value = value === null || value === undefined ? "" : String(value);
    }
  }
  if (data && data.model && !FORM.elements.model.value) {
    // a model stored before models were a choice: keep it visible, the API will refuse it
    FORM.elements.model.add(new Option(data.model, data.model, true, true));
  }
}

function startEdit(data) {
  editing = data ? data.code : null;
  clearErrors();
  show("form-status", "");
  fill(data);
  FORM.elements.code.readOnly = editing !== null;
  const title = document.getElementById("form-title");
  title.textContent = editing ? `${title.dataset.edit}: ${editing}` : title.dataset.add;
  (editing ? FORM.elements.settlement : FORM.elements.code).focus();
}

// the field an error belongs to: the last field name in its loc, else its rule's field
function fieldOf(error) {
  const names = (error.loc || []).filter((p) => FIELDS.includes(p) || p === "container");
  if (names.length) return names[names.length - 1] === "container" ? "code" : names[names.length - 1];
  return RULE_FIELD[error.type] || null;
}

function messageOf(error) {
  if (error.type === "unknown_model") {
    return t("containers.error.unknown_model", { known: FORM.elements.model.dataset.known });
  }
  const own = t(`containers.error.${error.type}`);
  return own || error.msg;
}

function showErrors(errors) {
  const general = [];
  let first = null;
  for (const error of errors) {
    const field = fieldOf(error);
    const box = field && document.getElementById(`err-${field}`);
    if (!box) { general.push(messageOf(error)); continue; }
    box.textContent = box.hidden ? messageOf(error) : `${box.textContent} ${messageOf(error)}`;
    box.hidden = false;
    const input = FORM.elements[field];
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  if (general.length) show("form-error", general.join(" "));
  else show("form-error", t("containers.error.fix_fields"));
  if (first && first.focus) first.focus();
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const body = values();
  const path = editing ? `/api/v1/containers/${encodeURIComponent(editing)}` : "/api/v1/containers";
  if (editing) delete body.code;
  const resp = await fetch(path, {
    method: editing ? "PATCH" : "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body),
  });
  if (resp.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  const answer = await resp.json().catch(() => ({}));
  if (resp.ok) {
    const q = new URLSearchParams(location.search);
    q.set("saved", answer.code);
    location.assign(`${location.pathname}?${q}`);
  } else if (resp.status === 422) {
    const errors = Array.isArray(answer.detail) ? answer.detail : answer.errors;
    if (errors && errors.length) showErrors(errors);
    else show("form-error", String(answer.detail || t("error.failed")));
  } else if (resp.status === 409) {
    const device = String(answer.detail || "").startsWith("device");
    showErrors([{ loc: [device ? "device" : "code"], type: device ? "device_taken" : "code_taken", msg: answer.detail }]);
  } else if (resp.status === 403) {
    show("form-error", t("error.forbidden"));
  } else {
    show("form-error", t("error.failed"));
  }
}

if (FORM) {
  FORM.addEventListener("submit", save);
  document.getElementById("new").addEventListener("click", () => startEdit(null));
  for (const button of document.querySelectorAll("button.edit")) {
    button.addEventListener("click", () => {
      startEdit(JSON.parse(button.dataset.form));
      document.getElementById("editor").scrollIntoView({ block: "start" });
    });
  }
  const saved = new URLSearchParams(location.search).get("saved");
  if (saved) show("form-status", t("containers.saved", { code: saved }));
}
