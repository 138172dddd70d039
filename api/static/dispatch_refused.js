// Dispatcher board, "refused data": messages refused today per device or source, by reason
// ("device X: 14 uplinks refused today: unknown model"), from /api/v1/dispatch/refused.
// Kept apart from dispatch.js (its own scope, its own refresh); texts from the page's #texts
// catalogue, numbers with numbers.js. An admin gets a link to the letters themselves.
"use strict";

(function refusedData() {
  const TEXTS = JSON.parse(document.getElementById("texts").textContent);
  const LANG = document.body.dataset.lang;
  const REFRESH_MS = 60000;
  const section = document.getElementById("refused-data");
  if (!section) return;
  const list = section.querySelector("ul");
  const none = section.querySelector(".none");
  const isAdmin = (document.getElementById("who") || {}).dataset?.role === "admin";

  function t(key, values) {
    const text = TEXTS[key];
    if (text === undefined) return null;
    return text.replace(/\{(\w+)\}/g, (_, name) => (values && name in values ? values[name] : `{${name}}`));
  }

  function count(n) {
    return window.formatNumber ? window.formatNumber(n, 0, LANG) : String(n);
  }

  function reasonText(code) {
    return t(`dead_letters.reason.${code}`) || t(`dead_letters.reason.${code.split(":")[0]}`) || code;
  }

  function sourceText(s) {
    const type = s.source.includes(":") ? s.source.split(":")[0] : s.source;
    if (type === "device" && s.container) {
      return t("dead_letters.source.device_in", { name: s.name, container: s.container });
    }
    return t(`dead_letters.source.${type}`, { name: s.name }) || s.source;
  }

  function line(s) {
    const what = s.kind === "uplink" ? "uplink" : "message";
    const reasons = s.reasons.length === 1
      ? reasonText(s.reasons[0].reason)
      : s.reasons.map((r) => `${reasonText(r.reason)} (${count(r.letters)})`).join("; ");
    return `${t(`dead_letters.count.${what}`, { count: count(s.letters) })}: ${reasons}`;
  }

  function render(data) {
    list.replaceChildren();
    for (const s of data.sources) {
      const li = document.createElement("li");
      li.dataset.source = s.source;
      li.dataset.letters = String(s.letters);
      const who = document.createElement("strong");
      who.textContent = sourceText(s);
      li.append(who, `: ${line(s)}`);
      if (isAdmin) {
        const a = document.createElement("a");
        a.href = `/admin/dead-letters?source=${encodeURIComponent(s.source)}`;
        a.textContent = t("dead_letters.details");
        li.append(" ", a);
      }
      list.append(li);
    }
    none.hidden = data.sources.length > 0;
    section.dataset.loaded = "true";
  }

  async function refresh() {
    try {
      const resp = await fetch("/api/v1/dispatch/refused", { headers: { Accept: "application/json" } });
      if (resp.ok) render(await resp.json());
    } catch (err) {
      // the board's own refresh reports a lost connection; this list just waits for the next
    }
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
