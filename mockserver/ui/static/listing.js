// Polling the tasks through their listing (GET /__mock/tasks?after=&limit=) without reading all
// of them each time: the listing is held as its pages, each with the `after` that reads it
// again. New tasks come on the last page; a page is read again when it holds an unfinished task
// on screen, or one past its end (an advance ends many at once); the rest in turn.

export const FINISHED = new Set(["succeeded", "failed"]);

const PAGE = 200; // tasks per listing request
const HEAD_PROBES = 5; // requests to find the first live task (the oldest may have expired)
const SHOWN_PAGES = 3; // pages read again each tick for the rows on screen, at most
const BACKGROUND_MS = 500;

export class Listing {
  constructor(live) {
    this.live = live;
    this.pages = []; // {after, ids}
    this.pageOf = new Map(); // task id -> its page
    this.cursor = 0; // the next page the background refresh looks at
  }

  async readAll() {
    this.pages = [];
    this.pageOf = new Map();
    this.cursor = 0;
    await this.readTail();
  }

  /** One tick; false when the first task is no longer the one held (a reset elsewhere). */
  async poll() {
    const { live } = this;
    if ((await this.firstId()) !== live.tasks.keys().next().value) return false;
    await this.readTail();
    const wanted = new Set();
    for (const id of live.interest.shown) {
      const task = live.tasks.get(id);
      if (task && !FINISHED.has(task.status)) wanted.add(this.pageOf.get(id));
    }
    for (const page of [...wanted].slice(0, SHOWN_PAGES)) await this.read(page);
    const selected = live.interest.task && live.tasks.get(live.interest.task);
    if (selected && !wanted.has(this.pageOf.get(selected.id))) {
      const view = await live.api.get(`tasks/${encodeURIComponent(selected.id)}`).catch(() => null);
      if (view) live.putTask(view, false);
    }
    await live.maybe("background", BACKGROUND_MS, () => this.readUnfinished());
    return true;
  }

  async firstId() {
    let after = null;
    for (let probe = 0; probe < HEAD_PROBES; probe += 1) {
      const page = await this.live.api.get("tasks", { after, limit: 1 });
      if (page.tasks.length || page.next == null) return page.tasks.length ? page.tasks[0].id : undefined;
      after = page.next;
    }
    return this.live.tasks.keys().next().value; // the first tasks all expired: no verdict
  }

  /** The last page again, and any page after it. */
  async readTail() {
    let index = Math.max(0, this.pages.length - 1);
    for (;;) {
      const page = this.pages[index] || (this.pages[index] = { after: null, ids: [] });
      const listed = await this.live.api.get("tasks", { after: page.after, limit: PAGE });
      this.fill(page, listed.tasks);
      if (listed.next == null) break;
      index += 1;
      if (!this.pages[index]) this.pages[index] = { after: listed.next, ids: [] };
    }
    for (const dropped of this.pages.splice(index + 1)) this.fill(dropped, []);
  }

  async read(page) {
    const listed = await this.live.api.get("tasks", { after: page.after, limit: PAGE });
    this.fill(page, listed.tasks);
  }

  /** A page as listed now: its tasks updated, those gone from it forgotten. */
  fill(page, views) {
    const { tasks } = this.live;
    const kept = new Set(views.map((view) => view.id));
    for (const id of page.ids) {
      if (!kept.has(id)) {
        tasks.delete(id);
        this.pageOf.delete(id);
        this.live.touch("tasks");
      }
    }
    for (const view of views) {
      const old = tasks.get(view.id);
      if (!old || old.status !== view.status || old.progress !== view.progress || old.result_url !== view.result_url) {
        this.live.touch("tasks");
      }
      tasks.set(view.id, view);
      this.pageOf.set(view.id, page);
    }
    page.ids = [...kept];
  }

  /** Every page holding a task past its end that is still shown unfinished, then one more
   * page of unfinished tasks, in turn. */
  async readUnfinished() {
    const { tasks } = this.live;
    const now = this.live.now();
    const unfinished = (id) => !FINISHED.has(tasks.get(id)?.status);
    const due = (id) => unfinished(id) && (tasks.get(id).ends_at ?? Infinity) <= now;
    for (const page of this.pages.filter((p) => p.ids.some(due))) await this.read(page);
    const count = this.pages.length;
    for (let step = 0; step < count; step += 1) {
      const page = this.pages[(this.cursor + step) % count];
      if (page.ids.some(unfinished)) {
        this.cursor = (this.cursor + step + 1) % count;
        await this.read(page);
        return;
      }
    }
  }
}
