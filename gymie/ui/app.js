// The dashboard: live tables from /watch (the read-only watch API), an instance's frames and
// charts, and the play panel (play.js). Everything goes through the JS client (gymie-client).

import { connect } from "/ui/vendor/gymie-client/index.js";
import { LineChart } from "/ui/chart.js";
import { drawMessage, drawPNG } from "/ui/frames.js";
import { Play } from "/ui/play.js";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token") ?? undefined;
const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
const RECONNECT_MS = 2000;

const charts = {
  reward: new LineChart($("reward-chart"), { color: "#2a7ab0" }),
  returns: new LineChart($("return-chart"), { color: "#b0502a", capacity: 100 }),
};
let watcher = null;
let selected = null; // the instance id whose frames are shown
let drawn = 0; // the seq of the last frame drawn
let frameTimes = [];

function fmt(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(digits);
}

function age(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function setStatus(text, ok) {
  $("status").textContent = text;
  $("status").className = `status ${ok ? "ok" : "bad"}`;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

// Rows are built with textContent only: env ids and peers come from clients.
function fillTable(table, rows, cells, onClick) {
  const body = table.tBodies[0];
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.id = String(row.id);
      for (const [col, value] of cells(row)) {
        const td = document.createElement("td");
        td.dataset.col = col;
        td.textContent = value;
        tr.append(td);
      }
      if (onClick) {
        tr.classList.add("clickable");
        if (String(row.id) === selected) tr.classList.add("selected");
        tr.addEventListener("click", () => onClick(row));
      }
      return tr;
    }),
  );
}

function renderTables(snapshot) {
  const s = snapshot.server;
  $("server").textContent = `v${s.version} · pid ${s.pid} · isolation ${s.isolation} · up ${age(s.uptime)}`;
  $("connections-count").textContent = `(${snapshot.connections.length})`;
  $("instances-count").textContent = `(${snapshot.instances.length})`;
  fillTable($("connections"), snapshot.connections, (c) => [
    ["id", String(c.id)], ["peer", c.peer], ["protocol", c.protocol], ["age", age(c.age)],
    ["requests", fmt(c.requests)], ["requests_per_s", fmt(c.requests_per_s)], ["instances", fmt(c.instances)],
  ]);
  fillTable($("instances"), snapshot.instances, (i) => [
    ["id", i.id.slice(0, 8)], ["env_id", i.env_id ?? "?"], ["owner", fmt(i.owner)], ["steps", fmt(i.steps)],
    ["steps_per_s", fmt(i.steps_per_s)], ["episodes", fmt(i.episodes)], ["last_return", fmt(i.last_return, 2)],
    ["render_mode", i.render_mode ?? "none"],
  ], (row) => select(row.id).catch((e) => showError(`Cannot watch ${row.id}: ${e.message}`)));
  const mine = snapshot.instances.find((i) => i.id === selected);
  if (selected !== null && mine === undefined) frameStatus("The instance is gone (closed).", "warn");
}

function frameStatus(text, kind = "") {
  $("frame-status").textContent = text;
  $("frame-status").className = `frame-status ${kind}`;
}

async function select(instanceId) {
  if (watcher === null) return;
  selected = instanceId;
  drawn = 0;
  frameTimes = [];
  charts.reward.clear();
  charts.returns.clear();
  $("detail").hidden = false;
  $("detail-id").textContent = instanceId;
  for (const tr of $("instances").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.id === instanceId);
  const info = await watcher.call("watch_frames", { instance_id: instanceId });
  $("detail-env").textContent = `${info.env_id ?? "?"} · render_mode ${info.render_mode ?? "none"}`;
  $("frame").dataset.renderable = String(info.renderable);
  if (info.renderable) {
    frameStatus(`waiting for frames (up to ${info.fps} per second, when the env steps)…`);
  } else {
    drawMessage($("frame"), "no frames: this instance has no rgb_array render mode");
    frameStatus(`No frames: ${info.problem}. Its statistics still update below.`, "warn");
  }
}

async function onFrame(frame) {
  if (frame.instance_id !== selected || frame.seq <= drawn) return;
  drawn = frame.seq;
  const st = frame.stats;
  $("detail-stats").textContent =
    `steps ${fmt(st.steps)} · ${fmt(st.steps_per_s)} steps/s · episodes ${fmt(st.episodes)} · ` +
    `return so far ${fmt(st.episode_return, 2)} · last return ${fmt(st.last_return, 2)}`;
  charts.reward.push(st.reward);
  charts.returns.set(st.returns);
  if (frame.png) {
    await drawPNG($("frame"), frame.png);
    const now = performance.now();
    frameTimes = [...frameTimes.filter((t) => now - t < 2000), now];
    $("frame").dataset.seq = String(frame.seq);
    frameStatus(`live · ${(frameTimes.length / 2).toFixed(1)} frames/s · frame ${frame.seq} · ${frame.width}×${frame.height}`, "ok");
  } else if (frame.problem) {
    frameStatus(`No frame: ${frame.problem}`, "warn");
  }
}

function onNotification(method, params) {
  if (method === "tables") renderTables(params);
  else if (method === "frame") onFrame(params).catch((e) => frameStatus(`Cannot draw the frame: ${e.message}`, "warn"));
  else if (method === "frames_ended" && params.instance_id === selected) frameStatus("The instance was closed.", "warn");
}

async function watch() {
  try {
    watcher = await connect(`${base}/watch`, { token, timeout: 10_000 });
  } catch (error) {
    setStatus("disconnected", false);
    showError(`Cannot connect to the watch API: ${error.message}. With --allowed-origins, the list must include ${location.origin}.`);
    setTimeout(watch, RECONNECT_MS * 5);
    return;
  }
  showError("");
  watcher.connection.onNotification = onNotification;
  const snapshot = await watcher.call("watch", {});
  setStatus("live", true);
  renderTables(snapshot);
  const idle = snapshot.server.idle_timeout;
  const ping = idle ? setInterval(() => watcher?.call("ping").catch(() => {}), (idle * 1000) / 3) : null;
  if (selected !== null) select(selected).catch(() => {});
  const closed = await watcher.connection.closed;
  clearInterval(ping);
  watcher = null;
  setStatus("disconnected", false);
  showError(`The watch connection closed (${closed.message}); reconnecting…`);
  setTimeout(watch, RECONNECT_MS);
}

watch();
new Play(`${base}/gym`, token, $("play"), null).start();
