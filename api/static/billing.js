// The accountant's page: buttons that post to the billing API, then reload the page.
// Everything shown is rendered by the server; this only sends the actions (with the CSRF token).
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const t = (key) => TEXTS[key] || key;

async function post(url, body) {
  const resp = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    throw new Error(typeof data.detail === "string" ? data.detail : t("error.failed"));
  }
  return data;
}

const ACTIONS = {
  run: (b) => post("/api/v1/billing/runs", { month: b.dataset.month }),
  issue: (b) => post("/api/v1/billing/invoices", { client: b.dataset.client, month: b.dataset.month }),
  credit: (b) => {
    const reason = window.prompt(t("billing.credit_reason"));
    if (reason === null) return null;
    return post(`/api/v1/billing/invoices/${b.dataset.invoice}/credit`, { reason });
  },
  repair: (b) => post("/api/v1/billing/reconciliation/repair", { day: b.dataset.day }),
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const error = document.getElementById("error");
  error.hidden = true;
  button.disabled = true;
  try {
    const done = await ACTIONS[button.dataset.action](button);
    if (done !== null) window.location.reload();
  } catch (exc) {
    error.textContent = exc.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});
