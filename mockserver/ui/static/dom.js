// Small DOM and formatting helpers: the page uses no library.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el, attrs, children, svg) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class" && !svg) el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h("td", {class: "x"}, "text", otherNode). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children, false);
}

/** An SVG element, the same way. */
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children, true);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Replace an element's children. */
export function put(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

/** "4 s", "2 min 5 s", "3 h 10 min", "2 d 4 h" for a number of seconds. */
export function span(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const sign = seconds < 0 ? "−" : "";
  let left = Math.abs(seconds);
  if (left < 10) return `${sign}${left.toFixed(left < 1 && left > 0 ? 1 : 0)} s`;
  left = Math.round(left);
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const parts = [];
  for (const [unit, size] of units) {
    if (left >= size || (parts.length === 0 && unit === "s")) {
      parts.push(`${Math.floor(left / size)} ${unit}`);
      left %= size;
    }
    if (parts.length === 2) break;
  }
  return sign + parts.join(" ");
}

/** A fake-clock Unix time as "2026-01-01 00:01:20" (UTC). */
export function stamp(unix) {
  if (unix == null) return "—";
  return new Date(unix * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "").replace("Z", "");
}

/** A long id shortened for a table cell (the whole id stays in the title). */
export function short(id, keep = 22) {
  if (!id || id.length <= keep) return id || "";
  return `${id.slice(0, keep - 8)}…${id.slice(-7)}`;
}

/** The class naming an HTTP status's family: ok, warn (4xx), bad (5xx), none (no answer). */
export function statusClass(status) {
  if (status == null) return "none";
  if (status < 300) return "ok";
  if (status < 400) return "info";
  return status < 500 ? "warn" : "bad";
}

/** A key fingerprint as the fake shows it (sha256: and 12 hex digits) for a key typed in, or
 * null where the browser offers no SHA-256 (a plain-http page beyond loopback). */
async function fingerprint(key) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256:${hex.slice(0, 12)}`;
}

/** A paging bar: "‹ 1–50 of 10,000 ›". `onPage` gets the new page index. */
export function pager(total, page, size, onPage) {
  const pages = Math.max(1, Math.ceil(total / size));
  const first = total === 0 ? 0 : page * size + 1;
  const last = Math.min(total, (page + 1) * size);
  const button = (label, to, disabled, title) =>
    h("button", { type: "button", class: "ghost small", disabled, title, onclick: () => onPage(to) }, label);
  return [
    button("«", 0, page === 0, "First page"),
    button("‹", page - 1, page === 0, "Previous page"),
    h("span", { class: "muted" }, `${first.toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}`),
    button("›", page + 1, page >= pages - 1, "Next page"),
    button("»", pages - 1, page >= pages - 1, "Last page"),
  ];
}

/** Show `items` as the rows of `body`, keeping the row of an item already shown (patched by
 * `update`, which returns the row to keep), so a refresh leaves a person's text selection and
 * hover alone; rows are only moved, added or removed where the list changed. */
export function keyedRows(body, items, key, build, update) {
  const old = body.keyed || new Map();
  const next = new Map();
  const rows = items.map((item) => {
    const had = old.get(key(item));
    const row = had ? (update ? update(had, item) : had) : build(item);
    next.set(key(item), row);
    return row;
  });
  body.keyed = next;
  rows.forEach((row, i) => {
    const at = body.children[i];
    if (at !== row) body.insertBefore(row, at || null);
  });
  while (body.children.length > rows.length) body.lastElementChild.remove();
}

/** Set an element's text only when it differs (no needless layout). */
export function text(el, value) {
  const wanted = String(value);
  if (el.textContent !== wanted) el.textContent = wanted;
}

/** Call `fn` whenever a field's value changes: typed, pasted or cleared. */
export function onEdit(input, fn) {
  for (const type of ["input", "change"]) input.addEventListener(type, fn);
}

/** A key filter: `set({key, print})`, where `print` is the fingerprint of a key typed as sent
 * (null for a fingerprint typed in, matched as a prefix). */
export function keyField(input, set) {
  onEdit(input, async () => {
    const typed = input.value.trim();
    const print = typed && !typed.startsWith("sha256:") ? await fingerprint(typed) : null;
    if (input.value.trim() === typed) set({ key: typed, print });
  });
}
