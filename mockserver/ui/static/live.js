// What the page knows of the fake, kept up to date: from the event stream (GET /__mock/events)
// when the fake serves one, else by polling the control plane twice a second. Views read the
// maps and arrays here and listen for "change" events naming what changed.

import { Listing } from "./listing.js";

const TICK_MS = 500;
const RENDER_MS = 100;
const JOURNAL_KEPT = 20000; // entries the page holds (the fake's default journal limit)
// The least time between two fetches of each resource (ms); a slow answer stretches it (x4).
const EVERY = {
  faults: 2000,
  callbacks: 1000,
  callbacksIdle: 5000,
  verdicts: 2000,
  probe: 15000,
};
const RANK = { queued: 0, running: 1, succeeded: 2, failed: 2 };

const sleep = (ms, wake) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });

export class Live extends EventTarget {
  constructor(api) {
    super();
    this.api = api;
    this.mode = "connecting"; // then "stream" or "polling"
    this.error = null;
    this.index = null; // GET /__mock/: providers and their operations
    this.clock = null;
    this.clockWall = 0;
    this.tasks = new Map(); // id -> view, in creation order
    this.listing = new Listing(this); // polling: how the tasks are read
    // The journal is read only once a view needs it (a full read is costly for the fake:
    // about 1.5 s for 20,000 entries), then only what is new.
    this.journal = [];
    this.journalLoaded = false;
    this.journalPending = []; // stream: entries that came before the journal was read
    this.lastSeq = 0;
    this.callbacks = new Map(); // id -> delivery, oldest first
    this.faults = [];
    this.verdicts = null;
    this.verdictQuery = {};
    this.interest = { callbacks: false, verdicts: false, journal: false, shown: [], task: null };
    this.last = {};
    this.loaded = false;
    this.loading = null;
    this.wake = [];
    this.pending = new Set(); // what changed since views last heard
    this.told = 0; // the timer that will tell them
    this.toldAt = 0;
  }

  // -- what views read ------------------------------------------------------------------

  /** The fake's time now: a real clock moves between fetches at its speed. */
  now() {
    if (!this.clock) return null;
    if (this.clock.mode !== "real") return this.clock.now;
    return this.clock.now + (Date.now() / 1000 - this.clockWall) * this.clock.speed;
  }

  requestsOf(taskId) {
    return this.journal.filter((entry) => entry.task === taskId);
  }

  deliveriesOf(taskId) {
    return [...this.callbacks.values()].filter((delivery) => delivery.task_id === taskId);
  }

  // -- change notification ----------------------------------------------------------------

  /** Note that `what` changed; views hear of it at most every RENDER_MS (a burst of events is
   * one redraw, not one per event). */
  touch(what) {
    this.pending.add(what);
    if (this.told) return;
    const wait = Math.max(0, this.toldAt + RENDER_MS - performance.now());
    this.told = setTimeout(() => {
      this.told = 0;
      this.toldAt = performance.now();
      const detail = new Set(this.pending);
      this.pending.clear();
      this.dispatchEvent(new CustomEvent("change", { detail }));
    }, wait);
  }

  setError(error) {
    if ((this.error && this.error.message) === (error && error.message)) return;
    this.error = error;
    this.touch("status");
  }

  setMode(mode) {
    this.mode = mode;
    document.body.dataset.mode = mode;
    this.touch("status");
  }

  /** Run the loop now rather than at its next tick (after an action). */
  kick() {
    for (const wake of this.wake.splice(0)) wake();
  }

  // -- the two ways to keep up ----------------------------------------------------------

  start() {
    this.loop();
    this.connect();
  }

  async loop() {
    for (;;) {
      const started = performance.now();
      try {
        await this.tick();
        this.setError(null);
      } catch (error) {
        this.setError(error);
      }
      const wait = (document.hidden ? 4 : 1) * TICK_MS - (performance.now() - started);
      await sleep(Math.max(50, wait), this.wake);
    }
  }

  async tick() {
    if (!this.loaded) return this.resync();
    if (!this.journalLoaded && (this.interest.journal || this.interest.task)) await this.readJournal();
    if (this.mode !== "stream") {
      await this.fetchClock();
      if (!(await this.listing.poll())) await this.resync(); // a reset elsewhere
      if (this.journalLoaded) await this.fetchJournal();
      await this.maybe("faults", EVERY.faults, () => this.fetchFaults());
      const callbacks = this.interest.callbacks || this.interest.task;
      await this.maybe("callbacks", callbacks ? EVERY.callbacks : EVERY.callbacksIdle, () => this.fetchCallbacks());
    } else if (this.clock && this.clock.mode === "real") {
      this.touch("clock"); // ages move with a real clock
    }
    // Judging is the fake's work over its whole journal: only while the verdicts are shown.
    if (this.interest.verdicts) await this.maybe("verdicts", EVERY.verdicts, () => this.fetchVerdicts());
  }

  /** Fetch with `fn` when `every` ms (or four times its last duration) have passed. */
  async maybe(name, every, fn) {
    const last = this.last[name];
    const now = performance.now();
    if (last && now - last.at < Math.max(every, 4 * last.took)) return;
    await fn();
    this.last[name] = { at: now, took: performance.now() - now };
  }

  /** Open the event stream; where the fake serves none, keep polling and look again now and
   * then. While the stream is open, it alone moves the page. */
  async connect() {
    for (;;) {
      let buffered = [];
      const opened = async () => {
        this.setMode("stream");
        if (this.loading) await this.loading.catch(() => null);
        await this.resync(); // a fresh view: events from the stream's start are buffered
        for (const event of buffered) this.apply(event, true);
        buffered = null;
      };
      let served = false;
      try {
        served = await this.api.stream(
          "events",
          {},
          () => {
            served = true;
            opened().catch((error) => this.setError(error));
          },
          (kind, data) => {
            const event = { kind, data: JSON.parse(data) };
            if (buffered) buffered.push(event);
            else this.apply(event, false);
          },
        );
      } catch (error) {
        if (served) this.setError(error);
      }
      if (this.mode !== "polling") this.setMode("polling");
      await new Promise((resolve) => setTimeout(resolve, served ? 1000 : EVERY.probe));
    }
  }

  apply({ kind, data }, buffered) {
    if (kind.startsWith("task.")) this.putTask(data.task, buffered);
    else if (kind === "request") {
      if (this.journalLoaded) this.addRequests([data.request]);
      else if (this.journalPending.push(data.request) > JOURNAL_KEPT) this.journalPending.shift();
    }
    else if (kind.startsWith("callback.")) {
      this.callbacks.set(data.delivery.id, data.delivery);
      this.touch("callbacks");
    } else if (kind === "clock.moved") this.setClock(data.clock);
    else if (kind === "rule.added" || kind === "rule.used") this.putRule(data.rule);
    else if (kind === "rules.cleared") {
      this.faults = [];
      this.touch("faults");
    } else if (kind === "reset" || kind === "resync") this.resync(); // resync: events were missed
  }

  // -- loading --------------------------------------------------------------------------

  /** Everything again, from nothing (at the start, after a reset, on a new stream). */
  resync() {
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  async load() {
    if (!this.index) this.index = await this.api.get("");
    await this.fetchClock();
    this.tasks = new Map();
    await this.listing.readAll();
    this.journal = [];
    this.journalLoaded = false;
    this.journalPending = [];
    this.lastSeq = 0;
    await this.fetchFaults();
    await this.fetchCallbacks();
    this.loaded = true;
    this.touch("all");
  }

  setClock(clock) {
    const rewound = this.clock && clock.now < this.clock.now && clock.mode === "manual";
    this.clock = clock;
    this.clockWall = Date.now() / 1000;
    this.touch("clock");
    if (rewound && this.mode !== "stream") this.resync(); // a reset elsewhere
  }

  async fetchClock() {
    this.setClock(await this.api.get("clock"));
  }

  async readJournal() {
    const page = await this.api.get("requests");
    this.journal = [];
    this.lastSeq = 0;
    this.addRequests(page.requests);
    this.addRequests(this.journalPending);
    this.journalPending = [];
    this.journalLoaded = true;
    this.touch("journal");
  }

  async fetchJournal() {
    const page = await this.api.get("requests", { since: this.lastSeq });
    this.addRequests(page.requests);
  }

  addRequests(entries) {
    const fresh = entries.filter((entry) => entry.seq > this.lastSeq);
    if (!fresh.length) return;
    this.journal.push(...fresh);
    this.lastSeq = fresh[fresh.length - 1].seq;
    if (this.journal.length > JOURNAL_KEPT) this.journal.splice(0, this.journal.length - JOURNAL_KEPT);
    this.touch("journal");
  }

  async fetchFaults() {
    this.faults = (await this.api.get("faults")).faults;
    this.touch("faults");
  }

  putRule(rule) {
    const others = this.faults.filter((r) => r.id !== rule.id);
    this.faults = rule.remaining > 0 ? [...others, rule] : others;
    this.touch("faults");
  }

  async fetchCallbacks() {
    const listed = (await this.api.get("callbacks")).callbacks;
    this.callbacks = new Map(listed.map((delivery) => [delivery.id, delivery]));
    this.touch("callbacks");
  }

  async fetchVerdicts() {
    this.verdicts = await this.api.get("verdicts", this.verdictQuery);
    this.touch("verdicts");
  }

  setVerdictQuery(query) {
    this.verdictQuery = query;
    delete this.last.verdicts;
    this.kick();
  }

  // -- tasks ----------------------------------------------------------------------------

  /** A task's view, unless it is older than the one held (a buffered event, older than the
   * snapshot loaded after it was sent). */
  putTask(view, buffered) {
    const old = this.tasks.get(view.id);
    if (old && buffered) {
      const behind = RANK[view.status] - RANK[old.status] || view.progress - old.progress;
      if (behind < 0) return;
    }
    this.tasks.set(view.id, view);
    this.touch("tasks");
  }

  // -- actions (each one call of the control plane) -----------------------------------------

  async act(method, path, body, query) {
    const answer = await this.api.call(method, path, { body, query });
    this.kick();
    return answer;
  }

  async endTask(id, verb, body) {
    const view = await this.act("POST", `tasks/${encodeURIComponent(id)}/${verb}`, body);
    this.putTask(view, false);
    return view;
  }

  async advance(seconds) {
    this.setClock(await this.act("POST", "clock/advance", { seconds }));
    delete this.last.callbacks;
  }

  async reset(key) {
    await this.act("POST", "reset", undefined, key ? { key } : undefined);
    await this.resync();
  }
}
