// The dashboard's entry point: the header (clock, advance, connection), the tabs and their
// routes (#tasks, #task/ID, #journal, #request/SEQ, #callbacks, #verdicts, #faults), the token
// prompt and the reset dialog.

import { Api } from "./api.js";
import { $, h, put, span, stamp } from "./dom.js";
import { Live } from "./live.js";
import { TasksView } from "./tasks.js";
import { CallbacksView, FaultsView, JournalView, VerdictsView } from "./views.js";

const VIEWS = ["tasks", "journal", "callbacks", "verdicts", "faults"];

let asking = false; // the token prompt is open: nothing is read until it is answered

function askToken(refused) {
  asking = true;
  renderHeader();
  const dialog = $("#token-dialog");
  const input = $("#token-input");
  $("#token-refused").hidden = !refused;
  input.value = "";
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    $("#token-form").onsubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      dialog.close();
      asking = false;
      resolve(token);
    };
  });
}

let toastTimer = 0;
function toast(text, kind) {
  const box = $("#toast");
  put(box, h("div", { class: `toast ${kind || ""}` }, text));
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, kind === "bad" ? 8000 : 2500);
}

/** Run an action; its error is shown (in `where`, or as a toast), never thrown. */
async function act(run, where) {
  if (where) where.hidden = true;
  try {
    return await run();
  } catch (error) {
    const text = `${error.status ? `${error.status} ` : ""}${error.message}`;
    if (where) {
      put(where, text);
      where.hidden = false;
    } else toast(text, "bad");
    return null;
  }
}

const api = new Api(new URL(".", location.href), askToken);
const live = new Live(api);
const views = {
  tasks: new TasksView(live, $("#view-tasks"), act),
  journal: new JournalView(live, $("#view-journal")),
  callbacks: new CallbacksView(live, $("#view-callbacks"), act),
  verdicts: new VerdictsView(live, $("#view-verdicts")),
  faults: new FaultsView(live, $("#view-faults"), act),
};
let current = "tasks";

function route() {
  const [name, ...rest] = location.hash.replace(/^#/, "").split("/");
  const arg = decodeURIComponent(rest.join("/"));
  if (name === "task") {
    current = "tasks";
    views.tasks.show(arg);
  } else if (name === "request") {
    current = "journal";
    views.journal.reveal(Number(arg));
  } else {
    current = VIEWS.includes(name) ? name : "tasks";
    if (current === "tasks") views.tasks.show(null);
  }
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== current;
  for (const tab of document.querySelectorAll(".tabs a[data-view]")) {
    tab.classList.toggle("on", tab.dataset.view === current);
  }
  live.interest.callbacks = current === "callbacks";
  live.interest.verdicts = current === "verdicts";
  live.interest.journal = current === "journal";
  live.kick();
  render(new Set(["all"]));
}

function renderHeader() {
  const clock = live.clock;
  if (clock) {
    put($("#clock-mode"), clock.mode === "manual" ? "manual clock" : `real clock ×${clock.speed}`);
    $("#clock-mode").className = `badge clock-${clock.mode}`;
    put($("#clock-now"), stamp(live.now()));
  }
  const status = $("#live");
  const failing = live.error;
  status.className = `live ${asking ? "down" : failing ? "down" : live.mode}`;
  const modes = { stream: "live · events", polling: "live · polling", connecting: "connecting…" };
  put(status, asking ? "control token needed" : failing ? "fake unreachable" : modes[live.mode]);
  status.title = asking ? "the control plane answers 401 without it" : failing ? failing.message : live.mode === "stream" ? "updated by GET /__mock/events" : "the control plane, asked twice a second";
  const banner = $("#error");
  banner.hidden = !failing;
  if (failing) put(banner, `The fake does not answer: ${failing.message}. Still trying…`);
  const count = (id, n, bad) => {
    const el = $(id);
    put(el, n ? n.toLocaleString() : "");
    el.classList.toggle("bad", Boolean(bad && n));
  };
  count("#count-tasks", live.tasks.size);
  count("#count-journal", live.journalLoaded ? live.journal.length : 0);
  count("#count-callbacks", live.callbacks.size);
  count("#count-faults", live.faults.length);
  const failingChecks = live.verdicts ? live.verdicts.verdicts.filter((v) => !v.passed).length : 0;
  count("#count-verdicts", failingChecks, true);
}

const READS = {
  tasks: ["tasks", "clock", "journal", "callbacks"],
  journal: ["journal"],
  callbacks: ["callbacks"],
  verdicts: ["verdicts"],
  faults: ["faults"],
};

function render(changed) {
  renderHeader();
  if (changed.has("all") || READS[current].some((what) => changed.has(what))) views[current].render();
  if (live.loaded) document.body.dataset.loaded = "true"; // drawn from a first full read
}

live.addEventListener("change", (event) => render(event.detail));
window.addEventListener("hashchange", route);
setInterval(() => render(new Set(["clock"])), 1000);

$("#advance").addEventListener("submit", (event) => {
  event.preventDefault();
  const seconds = Number(event.submitter?.dataset.seconds || $("#advance-seconds").value);
  act(async () => {
    await live.advance(seconds);
    toast(`Advanced ${span(seconds)}`, "ok");
  });
});

$("#reset-open").addEventListener("click", () => $("#reset-dialog").showModal());
$("#reset-cancel").addEventListener("click", () => $("#reset-dialog").close());
$("#reset-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("#reset-key").value.trim();
  const whole = event.submitter?.value === "all";
  if (!whole && !key) {
    $("#reset-key").focus();
    return;
  }
  $("#reset-dialog").close();
  act(async () => {
    await live.reset(whole ? null : key);
    toast(whole ? "Everything forgotten" : "That key's state forgotten", "ok");
  });
});

// The empty table's example, for this fake's own address.
const example = $("#tasks-empty pre");
example.textContent = example.textContent.replace("http://127.0.0.1:8000", location.origin);

route();
live.start();
