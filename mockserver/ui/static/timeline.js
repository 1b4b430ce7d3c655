// One task's life as a picture on the fake clock (SVG): its status over time, each request the
// client made for it (the create and every poll, from the journal), each callback attempt with
// its outcome, and, where a delivery was retried, its attempts drawn again on their own scale
// with the gaps between them (the retry schedule as it ran).

import { s, span, stamp, statusClass } from "./dom.js";

const LEFT = 92;
const RIGHT = 18;
const TOP = 18; // room for the "now" label
const LANE = 40;
const AXIS = 28;
const RETRY_ROW = 40;
const RETRY_ROWS = 3; // deliveries drawn on their own scale, at most
const TICK_WIDTH = 64; // pixels a tick's label needs
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400];
const OUTCOME = { success: "ok", pending: "pending", http_error: "warn", redirect: "warn" };

function range(task, requests, deliveries, now) {
  const start = task.created_at;
  let end = Math.max(now ?? start, task.ends_at ?? start);
  for (const entry of requests) end = Math.max(end, entry.time);
  for (const delivery of deliveries) {
    for (const attempt of delivery.attempts) end = Math.max(end, attempt.time + attempt.duration);
  }
  end = Math.max(end, start + 10);
  return [start, end + (end - start) * 0.04];
}

/** "+45 s", "+1:15", "+2:00:00": short enough for an axis. */
function offset(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `+${whole} s`;
  const pad = (n) => String(n).padStart(2, "0");
  const [h, m, sec] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h ? `+${h}:${pad(m)}:${pad(sec)}` : `+${m}:${pad(sec)}`;
}

function axis(x, start, end, width, y) {
  const most = Math.max(2, Math.floor((width - LEFT - RIGHT) / TICK_WIDTH));
  const step = STEPS.find((size) => (end - start) / size <= most) || 86400 * 7;
  const marks = [s("line", { class: "axis", x1: LEFT, x2: width - RIGHT, y1: y, y2: y })];
  for (let t = 0; start + t <= end; t += step) {
    marks.push(s("line", { class: "grid-line", x1: x(start + t), x2: x(start + t), y1: TOP, y2: y }));
    marks.push(s("text", { class: "tick", x: x(start + t), y: y + 16, "text-anchor": "middle" }, offset(t)));
  }
  return marks;
}

function lane(label, index, width) {
  const y = TOP + index * LANE;
  return [
    s("rect", { class: "lane", x: LEFT, y: y + 4, width: width - LEFT - RIGHT, height: LANE - 8, rx: 4 }),
    s("text", { class: "lane-label", x: LEFT - 10, y: y + LANE / 2 + 4, "text-anchor": "end" }, label),
  ];
}

function bar(x, from, to, y, kind, label) {
  const left = x(from);
  const width = Math.max(2, x(to) - left);
  return s(
    "g",
    { class: `phase ${kind}` },
    s("title", {}, `${label}: ${stamp(from)} → ${stamp(to)} (${span(to - from)})`),
    s("rect", { x: left, y: y + 9, width, height: LANE - 18, rx: 3 }),
    width > 64 ? s("text", { x: left + 6, y: y + LANE / 2 + 4 }, label) : null,
  );
}

function statusLane(x, task, now) {
  const y = TOP;
  const started = task.started_at ?? task.created_at;
  const finished = task.status === "succeeded" || task.status === "failed";
  const end = finished ? task.ends_at : now;
  const parts = [bar(x, task.created_at, Math.min(started, end), y, "queued", "queued")];
  if (end > started) parts.push(bar(x, started, end, y, "running", "running"));
  if (!finished && task.ends_at != null && task.ends_at > now) {
    parts.push(
      s(
        "rect",
        { class: "planned", x: x(now), y: y + 9, width: Math.max(2, x(task.ends_at) - x(now)), height: LANE - 18, rx: 3 },
        s("title", {}, `ends at ${stamp(task.ends_at)} (in ${span(task.ends_at - now)})`),
      ),
    );
  }
  if (finished) {
    const cx = x(task.ends_at);
    parts.push(
      s(
        "g",
        { class: `end ${task.status}` },
        s("title", {}, `${task.status}${task.error_code ? ` (${task.error_code})` : ""} at ${stamp(task.ends_at)}`),
        s("path", { d: `M${cx} ${y + 8} l8 12 l-8 12 l-8 -12 z` }),
      ),
    );
  }
  if (!finished && task.ends_at == null) {
    parts.push(s("text", { class: "note", x: x(now) + 6, y: y + LANE / 2 + 4 }, "stalled: never ends by itself"));
  }
  return parts;
}

/** "×4" over requests drawn on one spot (polls at one instant of a manual clock). */
function stacks(x, requests, y) {
  const counts = new Map();
  for (const entry of requests) {
    const spot = Math.round(x(entry.time) / 4);
    counts.set(spot, (counts.get(spot) || 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([spot, n]) =>
    s("text", { class: "stack", x: spot * 4 + 5, y: y + 12 }, `×${n}`));
}

function requestLane(x, requests) {
  const y = TOP + LANE;
  return [...stacks(x, requests, y), ...requests.map((entry, index) => {
    const cx = x(entry.time);
    const kind = statusClass(entry.status);
    const what = `#${entry.seq} ${entry.method} ${entry.path} → ${entry.status ?? "no answer"}`;
    const detail = entry.task_status ? ` (${entry.task_status})` : "";
    const shape =
      index === 0 && entry.method === "POST"
        ? s("rect", { x: cx - 5, y: y + 14, width: 10, height: 12, rx: 2 })
        : s("rect", { x: cx - 1.5, y: y + 10, width: 3, height: 20, rx: 1 });
    return s(
      "a",
      { href: `#request/${entry.seq}`, class: `mark ${kind}`, "data-seq": entry.seq },
      s("title", {}, `${what}${detail} at ${stamp(entry.time)}${entry.fault ? `, fault ${entry.fault}` : ""}`),
      shape,
    );
  })];
}

function attemptMark(delivery, attempt, cx, y, r) {
  const kind = OUTCOME[attempt.outcome] || "bad";
  const answer = attempt.status_code ? ` ${attempt.status_code}` : "";
  const detail = attempt.detail ? ` (${attempt.detail})` : "";
  return s(
    "g",
    { class: `attempt ${kind}`, "data-outcome": attempt.outcome },
    s("title", {}, `callback ${delivery.id} attempt ${attempt.number}: ${attempt.outcome}${answer} at ${stamp(attempt.time)}${detail}`),
    s("circle", { cx, cy: y, r }),
  );
}

function callbackLane(x, deliveries) {
  const y = TOP + 2 * LANE + LANE / 2;
  const parts = [];
  for (const delivery of deliveries) {
    const xs = delivery.attempts.map((attempt) => x(attempt.time));
    if (xs.length > 1) parts.push(s("line", { class: "retry", x1: xs[0], x2: xs[xs.length - 1], y1: y, y2: y }));
    delivery.attempts.forEach((attempt, i) => parts.push(attemptMark(delivery, attempt, xs[i], y, 5)));
  }
  return parts;
}

/** Each retried delivery on its own scale, first attempt to last: the gaps readable however
 * long the task ran before. */
function retryLanes(retried, created, top, width) {
  if (!retried.length) return [];
  const parts = [s("text", { class: "section-label", x: LEFT - 10, y: top + 4, "text-anchor": "end" }, "retries")];
  retried.slice(0, RETRY_ROWS).forEach((delivery, row) => {
    const y = top + row * RETRY_ROW + 20;
    const attempts = delivery.attempts;
    const first = attempts[0].time;
    const last = attempts[attempts.length - 1].time;
    const left = LEFT + 40;
    const right = width - RIGHT - 40;
    const x = (t) => left + ((t - first) / Math.max(last - first, 1e-9)) * (right - left);
    parts.push(
      s("text", { class: "lane-label small", x: LEFT - 10, y: y + 4, "text-anchor": "end" }, delivery.id),
      s("line", { class: "retry", x1: x(first), x2: x(last), y1: y, y2: y }),
      s("text", { class: "tick", x: x(first), y: y + 20, "text-anchor": "middle" }, offset(first - created)),
      s("text", { class: "tick", x: x(last), y: y + 20, "text-anchor": "middle" }, offset(last - created)),
    );
    attempts.forEach((attempt, i) => {
      if (i > 0) {
        const gap = attempt.time - attempts[i - 1].time;
        const mid = (x(attempt.time) + x(attempts[i - 1].time)) / 2;
        parts.push(s("text", { class: "gap", x: mid, y: y - 9, "text-anchor": "middle" }, `+${span(gap)}`));
      }
      parts.push(attemptMark(delivery, attempt, x(attempt.time), y, 6));
    });
  });
  return parts;
}

/** The picture, `width` pixels wide. */
export function timeline(task, requests, deliveries, now, width) {
  const [start, end] = range(task, requests, deliveries, now);
  const x = (t) => LEFT + ((t - start) / (end - start)) * (width - LEFT - RIGHT);
  const axisY = TOP + 3 * LANE + 2;
  const retried = deliveries.filter((delivery) => delivery.attempts.length > 1);
  const rows = Math.min(retried.length, RETRY_ROWS);
  const height = axisY + AXIS + (rows ? 16 + rows * RETRY_ROW : 0);
  const nowX = x(Math.min(now ?? start, end));
  return s(
    "svg",
    { class: "timeline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Timeline of task ${task.id}` },
    lane("status", 0, width),
    lane("requests", 1, width),
    lane("callbacks", 2, width),
    axis(x, start, end, width, axisY),
    statusLane(x, task, now ?? start),
    requestLane(x, requests),
    callbackLane(x, deliveries),
    s("line", { class: "now", x1: nowX, x2: nowX, y1: TOP, y2: axisY }),
    s("text", { class: "now-label", x: nowX, y: TOP - 6, "text-anchor": "middle" }, "now"),
    retryLanes(retried, task.created_at, axisY + AXIS + 8, width),
  );
}
