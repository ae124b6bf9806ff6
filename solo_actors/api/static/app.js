// Solo's dashboard: plain browser JavaScript, no build step and nothing fetched from elsewhere.
// The token is entered once and kept in sessionStorage (gone when the tab closes). Live data:
// GET /status (the tree, and the speaker's volume and tts's speaking rate among its figures)
// and the pending timers, alarms and reminders every 2 s, the newest memories every 10 s and
// after each turn, and the /events stream (read with fetch so it can carry the token): turns,
// supervisor reports, agents runs' progress and skills that fired.
"use strict";

const POLL_MS = 2000;
const HISTORY = 90;               // chart points kept (3 minutes at one per poll)
const $ = (selector) => document.querySelector(selector);
const samples = [];               // {t, rss, tps}
let lastTokensPerSecond = 0;
let eventsAbort = null;

function token() { return sessionStorage.getItem("solo-token") || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok && !(options.raw)) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${message}`);
  }
  return response;
}

function text(value) { return value === null || value === undefined ? "" : String(value); }
function seconds(value) { return value === null || value === undefined ? "–" : value.toFixed(2) + " s"; }
function uptime(value) {
  if (value === null || value === undefined) return "–";
  const s = Math.floor(value), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}
function cell(row, value, className) {
  const td = row.insertCell(); td.textContent = value; if (className) td.className = className; return td;
}
function status(message) { $("#status-line").textContent = message; }

// -- the tree --------------------------------------------------------------------------------

function flatten(node, depth, rows) {
  rows.push({ node, depth });
  for (const child of node.children || []) flatten(child, depth + 1, rows);
  return rows;
}

function renderTree(tree) {
  const body = $("#tree tbody");
  body.replaceChildren();
  for (const { node, depth } of flatten(tree, 0, [])) {
    const row = body.insertRow();
    row.dataset.path = node.path;
    cell(row, "  ".repeat(depth) + (depth ? "└ " : "") + node.id, "path");
    // A room's satellite actor says whether its link is up (connecting / connected).
    const link = node.figures && node.figures.link ? ` · ${node.figures.link}` : "";
    cell(row, node.state + link, "state state-" + node.state);
    cell(row, uptime(node.uptime));
    cell(row, node.restarts, "restarts");
    cell(row, node.mailbox);
    cell(row, node.last_exit ? `${node.last_exit.kind}${node.last_exit.detail ? ": " + node.last_exit.detail : ""}` : "");
    const actions = row.insertCell();
    if (depth > 0) {
      const button = document.createElement("button");
      button.className = "restart"; button.textContent = "restart";
      button.title = "POST /actors/" + node.path + "/restart";
      button.addEventListener("click", () => restart(node.path, button));
      actions.appendChild(button);
    }
  }
}

async function restart(path, button) {
  button.disabled = true;
  try {
    await api(`/actors/${path}/restart`, { method: "POST" });
    status(`restart of ${path} requested`);
  } catch (error) { status(`restart of ${path} failed: ${error.message}`); }
  setTimeout(() => { button.disabled = false; refresh(); }, 500);
}

// -- the chart ---------------------------------------------------------------------------------

function drawChart() {
  const canvas = $("#chart"), context = canvas.getContext("2d");
  const width = canvas.width = canvas.clientWidth * devicePixelRatio;
  const height = canvas.height = canvas.clientHeight * devicePixelRatio;
  context.clearRect(0, 0, width, height);
  if (samples.length < 2) return;
  const series = [["tps", "#58a6ff"], ["rss", "#d29922"]];
  for (const [key, colour] of series) {
    const top = Math.max(1, ...samples.map((s) => s[key])) * 1.15;
    context.strokeStyle = colour; context.lineWidth = 2 * devicePixelRatio; context.beginPath();
    samples.forEach((sample, index) => {
      const x = (index / (HISTORY - 1)) * width, y = height - (sample[key] / top) * (height - 16) - 4;
      index ? context.lineTo(x, y) : context.moveTo(x, y);
    });
    context.stroke();
    context.fillStyle = colour; context.font = `${11 * devicePixelRatio}px sans-serif`;
    const last = samples[samples.length - 1][key];
    context.fillText(`${key === "tps" ? "tok/s" : "MiB"} ${last.toFixed(1)}`, 6, (key === "tps" ? 14 : 30) * devicePixelRatio);
  }
}

// -- turns and reports ------------------------------------------------------------------------

function addTurn(turn) {
  const body = $("#turns tbody"), row = body.insertRow(0), times = turn.times || {};
  cell(row, new Date().toLocaleTimeString());
  cell(row, turn.source);
  cell(row, turn.text || "");
  cell(row, turn.error ? `⚠ ${turn.reply}` : turn.reply);
  const start = times.wake ?? times.transcript ?? null;
  cell(row, start !== null && times.first_token ? seconds(times.first_token - start) : "–");
  cell(row, times.first_token && times.done ? seconds(times.done - times.first_token) : "–");
  cell(row, turn.tokens_per_second ? turn.tokens_per_second.toFixed(1) : "–");
  while (body.rows.length > 8) body.deleteRow(-1);
  if (turn.tokens_per_second) lastTokensPerSecond = turn.tokens_per_second;
}

function addReport(report, atTop = true) {
  const item = document.createElement("li");
  const when = new Date(report.timestamp * 1000).toLocaleTimeString();
  const path = report.child_id ? `${report.supervisor}/${report.child_id}` : report.supervisor;
  const reason = report.reason ? ` ${report.reason.kind}${report.reason.detail ? ": " + report.reason.detail : ""}` : "";
  item.textContent = `${when} ${report.kind.padEnd(8)} ${path}${reason}`;
  item.className = "kind-" + report.kind;
  const list = $("#reports");
  atTop ? list.prepend(item) : list.append(item);
  while (list.children.length > 50) list.lastChild.remove();
}

// -- agents runs: one row per run, updated by its RunProgress and WorkflowRun events ---------------

function runRow(run) {
  const body = $("#runs tbody");
  let row = body.querySelector(`tr[data-run="${run.run_id}"]`);
  if (!row) {
    row = body.insertRow(0);
    row.dataset.run = run.run_id;
    for (const name of ["workflow", "status", "step", "time"]) cell(row, "", name);
    row.cells[0].textContent = run.workflow;
    row.title = run.run_id;
    while (body.rows.length > 8) body.deleteRow(-1);
  }
  return row;
}

function showRun(run) {  // a WorkflowRun: from GET /agents/runs or the run's last event
  const row = runRow(run), done = run.steps.filter((step) => step.status === "done").length;
  row.cells[1].textContent = run.error ? `${run.status}: ${run.error}` : run.status;
  row.cells[1].className = "status run-" + run.status;
  row.cells[2].textContent = `${done}/${run.steps.length} steps`;
  row.cells[3].textContent = seconds(run.seconds);
}

function showProgress(progress) {
  const row = runRow(progress);
  row.cells[1].textContent = "running"; row.cells[1].className = "status run-running";
  row.cells[2].textContent = `step ${progress.step}/${progress.steps} ${progress.task} (${progress.agent}) ${progress.status}`;
  if (progress.status === "done") row.cells[3].textContent = seconds(progress.seconds);
}

// -- timers, alarms and reminders: the pending ones (polled) and those that fired (events) -------

const SKILL_KINDS = ["timer", "alarm", "reminder"];
function clock(epochSeconds) { return new Date(epochSeconds * 1000).toLocaleTimeString(); }

async function refreshSkillItems() {
  const lists = await Promise.all(SKILL_KINDS.map(async (kind) => (await (await api(`/${kind}s`)).json())[`${kind}s`]));
  const items = lists.flat().sort((a, b) => a.due_at - b.due_at);
  const body = $("#skill-items tbody");
  body.replaceChildren();
  for (const item of items) {
    const row = body.insertRow();
    row.dataset.id = item.id;
    cell(row, item.repeats ? `${item.kind}, ${item.repeats}` : item.kind, "kind");
    cell(row, item.label, "label");
    const paused = item.state === "paused";  // a paused timer holds its time left
    cell(row, paused ? "paused" : clock(item.due_at), "due");
    cell(row, uptime(paused ? item.remaining_s : Math.max(0, item.due_at - Date.now() / 1000)), "left");
    const button = document.createElement("button");
    button.className = "cancel"; button.textContent = "cancel";
    button.title = `DELETE /${item.kind}s/${item.id}`;
    button.addEventListener("click", () => cancelSkillItem(item, button));
    row.insertCell().appendChild(button);
  }
}

async function cancelSkillItem(item, button) {
  button.disabled = true;
  try {
    await api(`/${item.kind}s/${item.id}`, { method: "DELETE" });
    status(`${item.kind} "${item.label}" cancelled`);
  } catch (error) { status(`cancelling ${item.kind} "${item.label}" failed: ${error.message}`); }
  refreshSkillItems().catch((error) => status(error.message));
}

// -- lists: the open items of each list, each with a button that crosses it off ---------------

async function refreshLists() {
  const lists = (await (await api("/lists")).json()).lists;
  const body = $("#lists tbody");
  body.replaceChildren();
  for (const [name, items] of Object.entries(lists)) {
    for (const item of items) {
      const row = body.insertRow();
      row.dataset.id = item.id;
      cell(row, name, "list");
      cell(row, item.text, "text");
      cell(row, new Date(item.created_at * 1000).toLocaleString(), "added");
      const button = document.createElement("button");
      button.className = "cancel"; button.textContent = "cross off";
      button.title = `DELETE /lists/${name}/items/${item.id}`;
      button.addEventListener("click", () => crossOff(name, item, button));
      row.insertCell().appendChild(button);
    }
  }
}

async function crossOff(name, item, button) {
  button.disabled = true;
  try {
    await api(`/lists/${encodeURIComponent(name)}/items/${item.id}`, { method: "DELETE" });
    status(`"${item.text}" crossed off the ${name} list`);
  } catch (error) { status(`crossing off "${item.text}" failed: ${error.message}`); }
  refreshLists().catch((error) => status(error.message));
}

// -- memories: the newest, each with a button that forgets it ----------------------------------

const MEMORIES_SHOWN = 20;
const MEMORIES_EVERY = 5;         // polls: a listing reads every memory's time, so not every 2 s
const AFTER_TURN_MS = 1500;       // a turn's memory is written just after its event
let polls = 0;

async function refreshMemories() {
  const note = $("#memory-note");
  let listed;
  try {
    listed = await (await api(`/memories?limit=${MEMORIES_SHOWN}`)).json();
  } catch (error) {  // memory disabled or restarting: say so here, the rest goes on
    note.textContent = error.message;
    // Rows listed before it went down may be forgotten meanwhile: show none rather than stale.
    $("#memories tbody").replaceChildren(); $("#memory-total").textContent = "";
    return;
  }
  note.textContent = listed.total ? "" : "Nothing kept yet: tell Solo something about you.";
  $("#memory-total").textContent = listed.total > listed.memories.length
    ? `(newest ${listed.memories.length} of ${listed.total})` : `(${listed.total})`;
  const body = $("#memories tbody");
  body.replaceChildren();
  for (const memory of listed.memories) {
    const row = body.insertRow();
    row.dataset.id = memory.memory_id;
    cell(row, (memory.meta && memory.meta.said) || memory.text, "said");
    cell(row, memory.kind, "kind");
    cell(row, new Date(memory.at * 1000).toLocaleString(), "when");
    const button = document.createElement("button");
    button.className = "cancel"; button.textContent = "forget";
    button.title = `DELETE /memories/${memory.memory_id}`;
    button.addEventListener("click", () => forgetMemory(memory, button));
    row.insertCell().appendChild(button);
  }
}

async function forgetMemory(memory, button) {
  button.disabled = true;
  try {
    await api(`/memories/${encodeURIComponent(memory.memory_id)}`, { method: "DELETE" });
    status(`forgotten: ${(memory.meta && memory.meta.said) || memory.text}`);
  } catch (error) { status(`forgetting failed: ${error.message}`); }
  refreshMemories();
}

function addFired(fired) {  // a SkillFired event
  const item = document.createElement("li");
  item.dataset.id = fired.item.item_id;
  const late = fired.late_s >= 1 ? ` (late by ${uptime(fired.late_s)})` : "";
  item.textContent = `${clock(fired.item.fired_at ?? Date.now() / 1000)} ${fired.item.kind} "${fired.item.label}": ${fired.text}${late}`;
  const list = $("#fired");
  list.prepend(item);
  while (list.children.length > 8) list.lastChild.remove();
}

// -- server-sent events over fetch (EventSource cannot send the token) --------------------------

async function* serverEvents(response) {
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) yield { name, data: JSON.parse(data) };
    }
  }
}

async function followEvents() {
  if (eventsAbort) eventsAbort.abort();
  eventsAbort = new AbortController();
  try {
    const response = await api("/events?topics=turn,report,agents,skills", { signal: eventsAbort.signal });
    document.body.dataset.events = "connected";  // the server subscribes before it answers
    for await (const event of serverEvents(response)) {
      if (event.name === "turn") { addTurn(event.data.data); setTimeout(refreshMemories, AFTER_TURN_MS); }
      else if (event.name === "report") { addReport(event.data.data); refresh(); }
      else if (event.name === "skills") { addFired(event.data.data); refreshSkillItems().catch(() => {}); }
      else if (event.name === "agents") {
        const message = event.data.data;
        message.type === "RunProgress" ? showProgress(message) : showRun(message);
      }
    }
  } catch (error) {
    delete document.body.dataset.events;
    if (error.name !== "AbortError") { status(`event stream: ${error.message}; retrying`); setTimeout(followEvents, 3000); }
  }
}

// -- voice settings: sliders shown from an actor's figure in /status and set with a POST -----------

const SLIDERS = [  // the volume is the speaker's level; the speed is tts's speaking rate
  { id: "volume", name: "volume", actor: "solo/voice/speaker", figure: "volume",
    path: "/volume", field: "level", unit: "" },
  { id: "speed", name: "speed", actor: "solo/voice/tts", figure: "speaking_rate",
    path: "/speaking-rate", field: "percent", unit: " %" },
];
const slidersHeld = new Set();    // ids of sliders being moved: a poll must not move them back

function showSliders(tree) {
  const nodes = flatten(tree, 0, []);
  for (const slider of SLIDERS) {
    const found = nodes.find(({ node }) => node.path === slider.actor);
    const value = found && found.node.figures ? found.node.figures[slider.figure] : undefined;
    $(`#${slider.id}`).disabled = value === undefined;  // not in this tree, or not started
    if (value === undefined || slidersHeld.has(slider.id)) continue;
    $(`#${slider.id}`).value = value;
    $(`#${slider.id}-level`).textContent = value + slider.unit;
  }
}

async function setSlider(slider, value) {
  try {
    const set = await (await api(slider.path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ [slider.field]: value }),
    })).json();
    $(`#${slider.id}-level`).textContent = set[slider.field] + slider.unit;
    status(`${slider.name} ${set[slider.field]}${slider.unit} (was ${set.before}${slider.unit})`);
  } catch (error) { status(`${slider.name} not set: ${error.message}`); }
  slidersHeld.delete(slider.id);
}

// -- asking ------------------------------------------------------------------------------------

async function ask(question) {
  const answer = $("#answer");
  answer.textContent = "";
  const reply = document.createElement("div"); reply.id = "reply";
  const meta = document.createElement("div"); meta.className = "meta";
  answer.append(reply, meta);
  try {
    const response = await api("/ask?stream=1", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: question }),
    });
    for await (const event of serverEvents(response)) {
      if (event.name === "token") reply.textContent += event.data.text;
      else if (event.name === "done") {
        reply.textContent = event.data.reply;
        reply.dataset.done = "true";
        const tps = event.data.tokens_per_second;
        meta.textContent = event.data.error ? `error: ${event.data.error}` : `${event.data.model || ""} · ${tps ? tps.toFixed(1) + " tok/s" : ""}`;
      } else if (event.name === "error") meta.textContent = `error: ${event.data.message || event.data.error}`;
    }
  } catch (error) { meta.textContent = error.message; }
}

// -- polling -------------------------------------------------------------------------------------

async function refresh() {
  try {
    const data = await (await api("/status")).json();
    renderTree(data.tree);
    showSliders(data.tree);
    await refreshSkillItems();
    await refreshLists();
    if (polls++ % MEMORIES_EVERY === 0) await refreshMemories();
    $("#health").textContent = "running"; $("#health").className = "pill ok";
    samples.push({ t: data.time, rss: data.process.rss_bytes / 1048576, tps: lastTokensPerSecond });
    while (samples.length > HISTORY) samples.shift();
    drawChart();
    status(`pid ${data.process.pid} · ${data.process.threads} threads · events dropped ${data.events.dropped} · updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    $("#health").textContent = error.message.startsWith("401") ? "token needed" : "unreachable";
    $("#health").className = "pill bad";
    status(error.message);
  }
}

async function start() {
  $("#token").value = token();
  await refresh();
  try {
    const { reports } = await (await api("/log?limit=30")).json();
    reports.forEach((report) => addReport(report, false));
    const { runs } = await (await api("/agents/runs?limit=8")).json();
    runs.reverse().forEach(showRun);
  } catch (_) { /* shown by refresh */ }
  followEvents();
}

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("solo-token", $("#token").value.trim());
  start();
});
$("#ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("#question").value.trim();
  if (question) ask(question);
});
for (const slider of SLIDERS) {
  const input = $(`#${slider.id}`);
  input.addEventListener("input", () => {
    slidersHeld.add(slider.id); $(`#${slider.id}-level`).textContent = input.value + slider.unit;
  });
  input.addEventListener("change", () => setSlider(slider, Number(input.value)));
}
setInterval(refresh, POLL_MS);
start();
