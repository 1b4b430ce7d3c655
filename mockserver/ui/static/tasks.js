// The tasks: a filtered, paged table (newest first) and one task's detail: its facts, its
// result video, the actions on it and its timeline.

import { $, h, keyField, keyedRows, onEdit, pager, put, short, span, stamp, text } from "./dom.js";
import { FINISHED } from "./listing.js";
import { timeline } from "./timeline.js";
import { attemptChips, requestLink } from "./views.js";

const PAGE = 50;
const STATUSES = ["queued", "running", "succeeded", "failed"];

/** A progress bar; `updateProgress` moves it. */
function progressBar(task, big) {
  const bar = h(
    "div",
    { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "data-big": big ? "1" : null },
    h("div", { class: "track" }, h("div", { class: "fill" })),
    h("span", { class: "pct" }),
  );
  return updateProgress(bar, task);
}

function updateProgress(bar, task) {
  bar.className = `progress ${task.status}${bar.dataset.big ? " big" : ""}`;
  bar.setAttribute("aria-valuenow", task.progress);
  $(".fill", bar).style.width = `${task.progress}%`;
  text($(".pct", bar), `${task.progress}%`);
  return bar;
}

function statusBadge(task) {
  return h("span", { class: `badge ${task.status}`, title: `the provider shows "${task.provider_status}"` }, task.status);
}

function eta(task, now) {
  if (FINISHED.has(task.status)) return "";
  if (task.ends_at == null) return "stalled";
  const left = task.ends_at - now;
  return left > 0 ? `in ${span(left)}` : "due";
}

function outcome(task) {
  if (task.status === "succeeded") {
    return task.result_url
      ? h("a", { class: "play", href: task.result_url, title: "Play the result video" }, "▶ play")
      : h("span", { class: "muted", title: "the result file has expired" }, "expired");
  }
  const code = task.error_code || "failed";
  return task.status === "failed" ? h("span", { class: "code", title: code }, code) : "";
}

export class TasksView {
  constructor(live, root, act) {
    this.live = live;
    this.root = root;
    this.act = act; // runs an action, showing its error
    this.filter = { provider: "", status: "", key: "", print: null, id: "" };
    this.page = 0;
    this.selected = null;
    this.detail = null;
    this.body = $("#tasks-body", root);
    this.wire();
  }

  wire() {
    const provider = $("#f-provider", this.root);
    provider.addEventListener("change", () => this.setFilter({ provider: provider.value }));
    $("#f-status", this.root).addEventListener("click", (event) => {
      const button = event.target.closest("button[data-status]");
      if (button) this.setFilter({ status: button.dataset.status });
    });
    keyField($("#f-key", this.root), (change) => this.setFilter(change));
    const id = $("#f-id", this.root);
    onEdit(id, () => this.setFilter({ id: id.value.trim() }));
    this.body.addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-task]");
      if (!row) return;
      if (event.target.closest("a.play")) {
        event.preventDefault();
        this.autoplay = true;
      }
      location.hash = `#task/${encodeURIComponent(row.dataset.task)}`;
    });
  }

  setFilter(change) {
    Object.assign(this.filter, change);
    this.page = 0;
    this.render();
  }

  fillProviders(index) {
    const select = $("#f-provider", this.root);
    if (select.options.length > 1 || !index) return;
    for (const api of index.apis) select.append(h("option", { value: api.provider }, api.provider));
  }

  matches(task) {
    const { provider, key, print, id } = this.filter;
    if (provider && task.provider !== provider) return false;
    if (key && !(print ? task.key === print : task.key.startsWith(key))) return false;
    return !id || task.id.includes(id);
  }

  /** The filtered tasks newest first, and how many of them each status has. */
  select() {
    const counts = { "": 0, queued: 0, running: 0, succeeded: 0, failed: 0 };
    const shown = [];
    const all = [...this.live.tasks.values()];
    for (let i = all.length - 1; i >= 0; i -= 1) {
      const task = all[i];
      if (!this.matches(task)) continue;
      counts[""] += 1;
      counts[task.status] += 1;
      if (!this.filter.status || task.status === this.filter.status) shown.push(task);
    }
    return { shown, counts };
  }

  render() {
    const now = this.live.now();
    this.fillProviders(this.live.index);
    const { shown, counts } = this.select();
    for (const button of this.root.querySelectorAll("#f-status button")) {
      const status = button.dataset.status;
      button.classList.toggle("on", status === this.filter.status);
      put($(".n", button), counts[status].toLocaleString());
    }
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    const rows = shown.slice(this.page * PAGE, (this.page + 1) * PAGE);
    keyedRows(this.body, rows, (task) => task.id, (task) => this.row(task, now), (row, task) => this.update(row, task, now));
    this.live.interest.shown = rows.map((task) => task.id);
    const empty = $("#tasks-empty", this.root);
    empty.hidden = shown.length > 0;
    empty.classList.toggle("loading", !this.live.loaded); // no example before the fake has answered
    const why = this.live.tasks.size ? "No task matches these filters." : "No tasks yet.";
    put($(".why", empty), this.live.loaded ? why : "Reading the tasks…");
    put($("#tasks-pager", this.root), shown.length > PAGE ? pager(shown.length, this.page, PAGE, (page) => {
      this.page = page;
      this.render();
    }) : null);
    this.renderDetail(now);
  }

  row(task, now) {
    const row = h(
      "tr",
      { "data-task": task.id },
      h("td", { class: "mono id", title: task.id }, short(task.id, 34)),
      h("td", {}, task.provider),
      h("td", { class: "mono muted key", title: task.key }, task.key.replace("sha256:", "")),
      h("td", { class: "status" }),
      h("td", { class: "progress-cell" }, progressBar(task, false)),
      h("td", { class: "num eta" }),
      h("td", { class: "num age", title: `created ${stamp(task.created_at)}` }),
      h("td", { class: "outcome" }),
    );
    return this.update(row, task, now);
  }

  /** A row brought up to date in place: only what changed is touched. */
  update(row, task, now) {
    const [, , , status, progress, left, age, end] = row.children;
    row.classList.toggle("selected", task.id === this.selected);
    const shown = `${task.status}|${task.result_url}|${task.error_code}`;
    if (row.dataset.shown !== shown) {
      row.dataset.shown = shown;
      row.dataset.status = task.status;
      put(status, statusBadge(task));
      put(end, outcome(task));
    }
    updateProgress(progress.firstElementChild, task);
    text(left, eta(task, now));
    text(age, span(now - task.created_at));
    return row;
  }

  show(id) {
    this.selected = id;
    this.live.interest.task = id;
    if (!id) this.detail = null;
    this.render();
    this.live.kick();
  }

  // -- one task ------------------------------------------------------------------------

  renderDetail(now) {
    const aside = $("#task-detail", this.root);
    const task = this.selected && this.live.tasks.get(this.selected);
    aside.hidden = !this.selected;
    this.root.classList.toggle("with-detail", Boolean(this.selected));
    if (!this.selected) return;
    if (!task) {
      this.detail = null;
      put(aside, h("div", { class: "empty" }, h("p", {}, `No task ${this.selected} (yet).`), h("a", { href: "#tasks" }, "Back to the tasks")));
      return;
    }
    if (!this.detail || this.detail.id !== task.id) this.detail = this.buildDetail(aside, task);
    const d = this.detail;
    put(d.summary, statusBadge(task), h("span", { class: "chip" }, task.provider), h("span", { class: "muted" }, `"${task.provider_status}"`));
    updateProgress(d.bar, task);
    text(d.eta, eta(task, now));
    for (const button of d.aside.querySelectorAll(".actions button")) button.disabled = FINISHED.has(task.status);
    this.renderPlayer(d, task);
    const requests = this.live.requestsOf(task.id);
    const deliveries = this.live.deliveriesOf(task.id);
    const width = Math.max(420, d.picture.clientWidth || 600);
    // Drawn again only when something it shows changed (a tooltip being read stays put).
    const attempts = deliveries.map((delivery) => [delivery.state, delivery.attempts.map((a) => a.outcome)]);
    const drawn = JSON.stringify([task, requests.length, this.live.journalLoaded, attempts, Math.floor(now), width]);
    if (d.drawn === drawn) return;
    d.drawn = drawn;
    put(d.facts, this.facts(task, now));
    put(d.picture, timeline(task, requests, deliveries, now, width));
    const none = this.live.journalLoaded ? "No request for this task in the journal." : "Reading the journal…";
    put(d.requests, requests.length ? requests.slice(-40).reverse().map((entry) => h("li", {}, requestLink(entry))) : h("li", { class: "muted" }, none));
    put(d.callbacks, deliveries.length ? deliveries.map((delivery) => this.delivery(delivery)) : h("p", { class: "muted" }, task.callback_url ? "No callback sent yet." : "This task asked for no callback."));
  }

  buildDetail(aside, task) {
    const code = h("input", { type: "text", name: "code", class: "mono", placeholder: "provider's default", "aria-label": "Failure code", pattern: "[A-Za-z][A-Za-z0-9_]{0,63}" });
    const d = {
      id: task.id,
      aside,
      summary: h("div", { class: "summary" }),
      bar: progressBar(task, true),
      eta: h("span", { class: "eta" }),
      player: h("div", { class: "player" }),
      facts: h("dl", { class: "facts" }),
      picture: h("div", { class: "picture" }),
      requests: h("ol", { class: "requests" }),
      callbacks: h("div", { class: "deliveries" }),
    };
    const end = (verb, body) => this.act(() => this.live.endTask(task.id, verb, body));
    put(
      aside,
      h("header", { class: "detail-head" },
        h("h2", { class: "mono", title: task.id }, task.id),
        h("a", { class: "close", href: "#tasks", title: "Close", "aria-label": "Close" }, "×")),
      d.summary,
      h("div", { class: "progress-line" }, d.bar, d.eta),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "complete", onclick: () => end("complete") }, "Complete"),
        h("form", { class: "fail", onsubmit: (event) => { event.preventDefault(); end("fail", code.value.trim() ? { code: code.value.trim() } : {}); } },
          code, h("button", { type: "submit", class: "danger" }, "Fail")),
        h("button", { type: "button", class: "ghost cancel", onclick: () => end("cancel") }, "Cancel task")),
      h("h3", {}, "Timeline ", h("span", { class: "muted small" }, "on the fake clock")),
      d.picture,
      h("div", { class: "legend", title: "a mark's colour is its answer or outcome" },
        h("span", { class: "key queued" }, "queued"), h("span", { class: "key running" }, "running"),
        h("span", { class: "key ok" }, "ok"), h("span", { class: "key warn" }, "4xx"),
        h("span", { class: "key bad" }, "5xx, error, failed"), h("span", { class: "key none" }, "no answer"),
        h("span", { class: "shape tick" }, "request"), h("span", { class: "shape dot" }, "callback attempt")),
      h("div", { class: "facts-and-player" }, d.facts, d.player),
      h("h3", {}, "Requests for this task"),
      d.requests,
      h("h3", {}, "Callbacks"),
      d.callbacks,
    );
    return d;
  }

  /** The result video, fetched only once asked for (the row's "play" or the button here):
   * each download of a result file is an entry in the client's journal. */
  renderPlayer(d, task) {
    if (d.playerFor === task.result_url && !this.autoplay) return;
    d.playerFor = task.result_url;
    if (!task.result_url) {
      put(d.player);
      return;
    }
    const about = h("div", { class: "small" }, h("a", { href: task.result_url }, "Open the MP4"),
      task.result_expires_at ? h("span", { class: "muted" }, ` · kept until ${stamp(task.result_expires_at)}`) : null);
    const play = () => {
      const video = h("video", { controls: true, autoplay: true, playsinline: true, src: task.result_url });
      video.muted = true; // a muted video may start by itself
      put(d.player, video, about);
    };
    if (this.autoplay) play();
    else put(d.player, h("button", { type: "button", class: "play-video", title: "Fetch and play the result video", onclick: play }, "▶ Play the result"), about);
    this.autoplay = false;
  }

  facts(task, now) {
    const row = (name, ...value) => [h("dt", {}, name), h("dd", {}, ...value)];
    return [
      row("Key", h("span", { class: "mono" }, task.key)),
      row("Created", stamp(task.created_at), h("span", { class: "muted" }, ` (${span(now - task.created_at)} ago)`)),
      row("Started", stamp(task.started_at)),
      row(FINISHED.has(task.status) ? "Ended" : "Ends", task.ends_at == null ? "never (stalled)" : stamp(task.ends_at)),
      row("Video", `${task.duration} s, ${task.aspect_ratio}`),
      row("Credits", String(task.credits)),
      row("Callback", task.callback_url ? h("span", { class: "mono small" }, task.callback_url) : h("span", { class: "muted" }, "none")),
      task.error_code ? row("Error", h("span", { class: "code" }, task.error_code)) : null,
    ];
  }

  delivery(delivery) {
    return h("div", { class: "delivery" },
      h("div", {}, h("span", { class: `badge ${delivery.state}` }, delivery.state), " ", h("span", { class: "mono small" }, delivery.url)),
      attemptChips(delivery),
      h("button", { type: "button", class: "ghost small", onclick: () => this.act(() => this.live.act("POST", `callbacks/${encodeURIComponent(delivery.id)}/redeliver`)) }, "Redeliver"));
  }
}
