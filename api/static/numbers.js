// Numbers as each language writes them: the rules of landfill/numbers.py, for live updates.
// Kyrgyz and Russian put a comma before the fraction, English a point; every language puts a
// thin space (U+2009) between thousands. Chromium's Intl has no Kyrgyz data, so no Intl here.
"use strict";

const THIN_SPACE = "\u2009";
const DECIMAL_MARK = { ky: ",", ru: ",", en: "." };

function formatNumber(value, decimals, lang) {
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole, fraction] = fixed.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, THIN_SPACE);
  const sign = value < 0 && Number(fixed) !== 0 ? "-" : "";
  return sign + grouped + (fraction ? (DECIMAL_MARK[lang] || ".") + fraction : "");
}

window.formatNumber = formatNumber;
