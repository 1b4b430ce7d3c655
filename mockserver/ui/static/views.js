// The journal, the callbacks, the verdicts and the fault rules: a view each, reading what
// `Live` holds; their actions go through the control plane.

import { $, h, keyField, onEdit, pager, put, short, span, stamp, statusClass } from "./dom.js";

const PAGE = 50;
const OUTCOME = { success: "ok", pending: "pending", http_error: "warn", redirect: "warn" };

/** A journal entry as one link to it in the journal: "#12 GET /v1/tasks/… → 200". */
export function requestLink(entry) {
  return h(
    "a",
    { href: `#request/${entry.seq}`, class: "req", "data-seq": entry.seq, title: `at ${stamp(entry.time)}` },
    h("span", { class: "seq" }, `#${entry.seq}`),
    ` ${entry.method} `,
    h("span", { class: "mono" }, short(entry.path, 44)),
    " → ",
    h("span", { class: `status ${statusClass(entry.status)}` }, entry.status ?? "no answer"),
    entry.task_status ? h("span", { class: "muted" }, ` ${entry.task_status}`) : null,
  );
}

/** A delivery's attempts as chips, with the gap before each retry. */
export function attemptChips(delivery) {
  const chips = [];
  let previous = null;
  for (const attempt of delivery.attempts) {
    if (previous) chips.push(h("span", { class: "gap", title: "the retry schedule as it ran" }, `+${span(attempt.time - previous.time)}`));
    const answer = attempt.status_code ? ` ${attempt.status_code}` : "";
    chips.push(
      h("span", { class: `chip attempt ${OUTCOME[attempt.outcome] || "bad"}`, title: `${stamp(attempt.time)}, took ${span(attempt.duration)}${attempt.detail ? `: ${attempt.detail}` : ""}` },
        `#${attempt.number} ${attempt.outcome}${answer}`),
    );
    previous = attempt;
  }
  return h("div", { class: "attempts" }, chips.length ? chips : h("span", { class: "muted" }, "no attempt"));
}

function taskLink(id) {
  return id ? h("a", { href: `#task/${encodeURIComponent(id)}`, class: "mono", title: id }, short(id, 26)) : h("span", { class: "muted" }, "—");
}

// -- the journal ----------------------------------------------------------------------------

export class JournalView {
  constructor(live, root) {
    this.live = live;
    this.root = root;
    this.filter = { provider: "", operation: "", key: "", print: null, status: "" };
    this.page = 0;
    this.open = new Set();
    this.focus = null;
    for (const name of ["provider", "operation", "status"]) {
      const input = $(`#j-${name}`, root);
      onEdit(input, () => this.setFilter({ [name]: input.value.trim() }));
    }
    keyField($("#j-key", root), (change) => this.setFilter(change));
    $("#journal-body", root).addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-seq]");
      if (!row || event.target.closest("a")) return;
      const seq = Number(row.dataset.seq);
      if (!this.open.delete(seq)) this.open.add(seq);
      this.render();
    });
  }

  setFilter(change) {
    Object.assign(this.filter, change);
    this.page = 0;
    this.render();
  }

  fillChoices(index) {
    const providers = $("#j-provider", this.root);
    if (providers.options.length > 1 || !index) return;
    for (const api of index.apis) providers.append(h("option", { value: api.provider }, api.provider));
    providers.append(h("option", { value: "files" }, "files (result videos)"));
    const operations = new Set(index.apis.flatMap((api) => api.operations.map((op) => op.operation)));
    put($("#j-operations", this.root), [...operations, "getResultVideo"].map((op) => h("option", { value: op })));
  }

  matches(entry) {
    const { provider, operation, key, print, status } = this.filter;
    if (provider && entry.provider !== provider) return false;
    if (operation && entry.operation !== operation) return false;
    if (status && String(entry.status) !== status) return false;
    return !key || (print ? entry.key === print : (entry.key || "").startsWith(key));
  }

  /** Show one entry (a link from a verdict or a timeline): filters off, its page, opened
   * (once the journal has been read). */
  reveal(seq) {
    this.filter = { provider: "", operation: "", key: "", print: null, status: "" };
    for (const input of this.root.querySelectorAll(".toolbar input, .toolbar select")) input.value = "";
    this.open.add(seq);
    this.focus = seq;
    this.render();
  }

  render() {
    this.fillChoices(this.live.index);
    const shown = [];
    const journal = this.live.journal;
    for (let i = journal.length - 1; i >= 0; i -= 1) if (this.matches(journal[i])) shown.push(journal[i]);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (this.focus != null && this.live.journalLoaded) {
      const at = shown.findIndex((entry) => entry.seq === this.focus);
      if (at >= 0) this.page = Math.floor(at / PAGE);
    }
    this.page = Math.min(this.page, pages - 1);
    const rows = [];
    for (const entry of shown.slice(this.page * PAGE, (this.page + 1) * PAGE)) {
      rows.push(this.row(entry));
      if (this.open.has(entry.seq)) rows.push(this.details(entry));
    }
    put($("#journal-body", this.root), rows);
    const empty = $("#journal-empty", this.root);
    empty.hidden = shown.length > 0;
    put($(".why", empty), this.live.journalLoaded ? "No request in the journal matches." : "Reading the journal…");
    put($("#journal-pager", this.root), pager(shown.length, this.page, PAGE, (page) => {
      this.page = page;
      this.render();
    }));
    if (this.focus != null) {
      const row = $(`tr[data-seq="${this.focus}"]`, this.root);
      if (row) {
        row.scrollIntoView({ block: "center" });
        this.focus = null;
      }
    }
  }

  row(entry) {
    const focused = this.open.has(entry.seq);
    return h("tr", { "data-seq": entry.seq, class: focused ? "selected" : null },
      h("td", { class: "num mono" }, entry.seq),
      h("td", { class: "mono small", title: `wall clock ${new Date(entry.wall * 1000).toISOString()}` }, stamp(entry.time).slice(11)),
      h("td", {}, entry.method),
      h("td", { class: "mono path", title: entry.path + (entry.query ? `?${entry.query}` : "") }, short(entry.path, 48)),
      h("td", {}, entry.provider || ""),
      h("td", { class: "small" }, entry.operation || h("span", { class: "muted" }, "no route")),
      h("td", { class: "mono muted key", title: entry.key || "" }, entry.key ? entry.key.replace("sha256:", "") : ""),
      h("td", {}, h("span", { class: `status ${statusClass(entry.status)}` }, entry.status ?? "none")),
      h("td", {}, entry.fault ? h("span", { class: "chip warn" }, entry.fault) : ""),
      h("td", {}, taskLink(entry.task), entry.task_status ? h("span", { class: "muted small" }, ` ${entry.task_status}`) : null),
      h("td", { class: "num small" }, `${entry.duration_ms.toFixed(1)} ms`),
    );
  }

  details(entry) {
    const headers = h("table", { class: "headers" }, entry.headers.map(([name, value]) => h("tr", {}, h("th", {}, name), h("td", { class: "mono" }, value))));
    let body = entry.body;
    try {
      body = JSON.stringify(JSON.parse(entry.body), null, 2);
    } catch {
      // not JSON: shown as sent
    }
    const line = `${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ""}`;
    return h("tr", { class: "details" }, h("td", { colspan: 11 },
      h("p", { class: "request-line" }, h("span", { class: "mono" }, line), " → ",
        h("span", { class: `status ${statusClass(entry.status)}` }, entry.status ?? "no answer"),
        entry.retry_after != null ? h("span", { class: "muted" }, ` (Retry-After ${entry.retry_after} s)`) : null,
        h("span", { class: "muted" }, ` · ${new Date(entry.wall * 1000).toISOString()} wall clock`)),
      h("div", { class: "details-grid" },
        h("div", {}, h("h4", {}, "Headers"), headers),
        h("div", {}, h("h4", {}, `Body (${entry.body_bytes} bytes)`), entry.body ? h("pre", {}, body) : h("p", { class: "muted" }, "empty")),
      )));
  }
}

// -- callbacks ------------------------------------------------------------------------------

export class CallbacksView {
  constructor(live, root, act) {
    this.live = live;
    this.root = root;
    this.act = act;
    this.state = "";
    this.page = 0;
    $("#c-state", root).addEventListener("click", (event) => {
      const button = event.target.closest("button[data-state]");
      if (!button) return;
      this.state = button.dataset.state;
      this.page = 0;
      this.render();
    });
  }

  render() {
    const all = [...this.live.callbacks.values()].reverse();
    const counts = { "": all.length, pending: 0, delivered: 0, failed: 0, dropped: 0 };
    for (const delivery of all) counts[delivery.state] += 1;
    for (const button of this.root.querySelectorAll("#c-state button")) {
      button.classList.toggle("on", button.dataset.state === this.state);
      put($(".n", button), counts[button.dataset.state].toLocaleString());
    }
    const shown = this.state ? all.filter((d) => d.state === this.state) : all;
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    put($("#callbacks-body", this.root), shown.slice(this.page * PAGE, (this.page + 1) * PAGE).map((delivery) =>
      h("tr", { "data-delivery": delivery.id },
        h("td", { class: "mono small" }, delivery.id),
        h("td", {}, taskLink(delivery.task_id)),
        h("td", { class: "mono small url", title: delivery.url }, short(delivery.url, 40)),
        h("td", {}, h("span", { class: `badge ${delivery.state}` }, delivery.state)),
        h("td", {}, attemptChips(delivery)),
        h("td", {}, h("button", { type: "button", class: "ghost small redeliver", onclick: () => this.act(() => this.live.act("POST", `callbacks/${encodeURIComponent(delivery.id)}/redeliver`)) }, "Redeliver")),
      )));
    $("#callbacks-empty", this.root).hidden = shown.length > 0;
    put($("#callbacks-pager", this.root), pager(shown.length, this.page, PAGE, (page) => {
      this.page = page;
      this.render();
    }));
  }
}

// -- verdicts -------------------------------------------------------------------------------

export class VerdictsView {
  constructor(live, root) {
    this.live = live;
    this.root = root;
    $("#v-form", root).addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("#v-key", root).value.trim();
      const interval = $("#v-interval", root).value.trim();
      live.setVerdictQuery({ key: key || null, min_poll_interval: interval || null });
    });
  }

  render() {
    const report = this.live.verdicts;
    const list = $("#verdicts-list", this.root);
    if (!report) {
      put(list, h("p", { class: "muted" }, "Judging the journal…"));
      return;
    }
    const failed = report.verdicts.filter((v) => !v.passed).length;
    put($("#verdicts-summary", this.root),
      h("span", { class: `badge ${report.passed ? "succeeded" : "failed"}` }, report.passed ? "all checks pass" : `${failed} check${failed > 1 ? "s" : ""} failing`),
      h("span", { class: "muted" }, ` ${report.requests.toLocaleString()} requests judged${report.key ? ` for key ${report.key}` : ""}, polling faster than every ${report.min_poll_interval} s is a finding`));
    put(list, report.verdicts.map((verdict) =>
      h("article", { class: `verdict ${verdict.passed ? "passed" : "failed"}`, "data-check": verdict.check },
        h("header", {}, h("span", { class: "mark" }, verdict.passed ? "✓" : "✗"), h("h3", { class: "mono" }, verdict.check),
          h("span", { class: "muted" }, verdict.passed ? "passed" : `${verdict.findings.length} finding${verdict.findings.length > 1 ? "s" : ""}`)),
        h("p", { class: "muted" }, verdict.description),
        verdict.findings.slice(0, 20).map((finding) =>
          h("div", { class: "finding" }, h("p", {}, finding.summary),
            h("div", { class: "evidence" }, finding.evidence.map((entry) => requestLink(entry))))),
        verdict.findings.length > 20 ? h("p", { class: "muted" }, `and ${verdict.findings.length - 20} more`) : null)));
  }
}

// -- fault rules ----------------------------------------------------------------------------

export class FaultsView {
  constructor(live, root, act) {
    this.live = live;
    this.root = root;
    const form = $("#fault-form", root);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const rule = {};
      for (const input of form.querySelectorAll("[name]")) {
        const value = input.value.trim();
        if (value === "") continue;
        rule[input.name] = input.type === "number" ? Number(value) : value;
      }
      act(() => live.act("POST", "faults", rule).then(() => live.fetchFaults()), $("#fault-error", root));
    });
    $("#faults-clear", root).addEventListener("click", () => act(() => live.act("DELETE", "faults").then(() => live.fetchFaults())));
  }

  fillChoices(index) {
    const select = $("#fault-operation", this.root);
    if (select.options.length > 1 || !index) return;
    for (const api of index.apis) {
      select.append(h("optgroup", { label: api.provider }, api.operations.map((op) => h("option", { value: op.operation }, `${op.operation}  (${op.method} ${op.path})`))));
    }
  }

  render() {
    this.fillChoices(this.live.index);
    const cell = (value) => (value == null ? h("span", { class: "muted" }, "any") : value);
    const rules = this.live.faults;
    put($("#faults-body", this.root), rules.map((rule) =>
      h("tr", { "data-rule": rule.id },
        h("td", { class: "mono small" }, rule.id),
        h("td", {}, cell(rule.operation)),
        h("td", { class: "mono small" }, cell(rule.key)),
        h("td", {}, rule.fault ? h("span", { class: "chip warn" }, rule.fault) : ""),
        h("td", {}, rule.fail ? h("span", { class: "chip bad" }, rule.fail) : ""),
        h("td", {}, rule.callback ? h("span", { class: "chip" }, rule.callback) : ""),
        h("td", { class: "num" }, rule.remaining),
        h("td", { class: "num" }, rule.probability),
        h("td", { class: "num" }, rule.matched))));
    $("#faults-empty", this.root).hidden = rules.length > 0;
    $("#faults-clear", this.root).disabled = rules.length === 0;
  }
}
