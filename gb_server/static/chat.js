// General Bots web chat: one bot's conversation, live over a WebSocket.
//
// The token is kept in localStorage under "gb.token.<bot>"; it is sent only in the body of
// POST {base}/api/session's answer and inside the socket's first frame (never in a URL, never logged).
//   POST {base}/api/session {}            -> 201 {session_id, token, bot, messages, waiting, suggestions}
//   POST {base}/api/upload (Bearer, multipart field "file", X-GB-Origin: the socket's origin)
//                                        -> 200 {messages, waiting, suggestions, file, received}
//   WS {base}/ws  client: {"type": "hello", "token"} first, then {"type": "message", "text"}
//                 server: {"type": "ready", session_id, messages, waiting, suggestions, origin}  (the whole history)
//                         {"type": "reply", messages, waiting, suggestions, echo?}  (echo: sent by another tab)
//                         {"type": "error", error: {code, message}}
// Suggestions (ADD SUGGESTION, ADD SWITCHER) are the bot's buttons as of its last turn: each frame
// replaces them; a click sends the button's value as a message.
// Texts are inserted with textContent only: messages and button labels are user data.
// Files: the attach button (always there: a file may answer any HEAR, and one sent unasked is kept;
// it is marked when the dialog waits for a file) uploads one; a message that carries a file
// ({file: {name, type, size, url}}: the user's upload, the bot's SEND FILE) shows a link to it,
// and the image itself or an audio player for those types.

const root = document.getElementById("gb-chat");
const bot = root.dataset.bot || "default";
const base = (root.dataset.base || "").replace(/\/+$/, "");
const part = (id) => root.querySelector(`[data-testid="${id}"]`);
const transcript = part("transcript");
const choicesBox = part("choices");
const suggestionsBox = part("suggestions");
const waitingLine = part("waiting");
const errorBox = part("error");
const statusEl = part("status");
const form = part("form");
const input = part("input");
const sendButton = part("send");
const attachButton = part("attach");
const stopButton = part("stop");
const fileInput = part("file");
const maxUploadBytes = Number(root.dataset.maxUploadMb || 0) * 1024 * 1024;
const FILE_TYPES = { FILE: "", IMAGE: "image/*", AUDIO: "audio/*", DOCUMENT: "" };

const TOKEN_KEY = `gb.token.${bot}`;
const NEW_SESSION_CODES = new Set(["invalid_token", "session_expired", "session_ended", "wrong_bot"]);
const ROLES = new Set(["user", "assistant", "system"]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

let token = loadToken();
let socket = null; // the current WebSocket (older ones are ignored)
let ready = false; // hello answered by "ready"
let pending = false; // a message was sent, its reply has not come yet
let attempt = 0; // reconnect attempts since the last "ready"
let timer = null;
let history = []; // the messages shown, in order
let waiting = null; // {variable, type, choices, line, kind: "hear"} at a HEAR, {kind: "wait", due, line} at a WAIT
let suggestions = []; // [{kind, text, value, name?, active?}]: the bot's buttons as of its last turn
let origin = null; // this socket's name (its "ready" frame): an upload that sends it is not echoed back

// --- token storage (localStorage; memory only when the browser refuses it) ---

function loadToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function saveToken(value) {
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode or storage disabled: the conversation lasts as long as the page
  }
}

// --- rendering ---

function bubble(message) {
  const role = ROLES.has(message.role) ? message.role : "system";
  const el = document.createElement("div");
  el.className = `gb-message gb-${role}`;
  el.dataset.testid = "message";
  el.dataset.role = role;
  const file = message.file && typeof message.file === "object" ? message.file : null;
  const text = String(message.content ?? "");
  if (!file || (text !== file.name && text !== `[file] ${file.name}`)) {
    const span = document.createElement("span");
    span.className = "gb-text";
    span.textContent = text;
    el.append(span);
  }
  if (file) el.append(...fileParts(file));
  if (message.timestamp) {
    const when = new Date(message.timestamp);
    if (!Number.isNaN(when.getTime())) el.title = when.toLocaleString();
  }
  return el;
}

// Only a URL of this server (path-absolute) or an http(s) one becomes a link: never javascript: or data:.
function safeUrl(url) {
  if (typeof url !== "string") return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  return /^https?:\/\//i.test(url) ? url : null;
}

function fileParts(file) {
  const url = safeUrl(file.url);
  const name = String(file.name ?? "file");
  const type = String(file.type ?? "");
  const parts = [];
  if (url && /^image\/(png|jpeg|gif|webp|bmp)$/.test(type)) {
    const img = document.createElement("img");
    img.className = "gb-file-image";
    img.dataset.testid = "file-image";
    img.src = url;
    img.alt = name;
    parts.push(img);
  } else if (url && type.startsWith("audio/")) {
    const audio = document.createElement("audio");
    audio.className = "gb-file-audio";
    audio.controls = true;
    audio.src = url;
    parts.push(audio);
  }
  const link = document.createElement(url ? "a" : "span");
  link.className = "gb-file-link";
  link.dataset.testid = "file-link";
  link.textContent = name;
  if (url) {
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  parts.push(link);
  return parts;
}

function renderAll(messages) {
  history = Array.isArray(messages) ? messages.slice() : [];
  transcript.replaceChildren(...history.map(bubble));
  refresh();
}

// An LLM's answer as it is generated: one bubble that grows with each delta frame; the reply
// frame that follows (the answer as stored, or what went wrong) takes its place. Meanwhile the
// Stop button asks the server to stop it ({"type": "stop"}): the reply then says so.
let streaming = null;

function grow(text) {
  if (!streaming) {
    streaming = bubble({ role: "assistant", content: "" });
    streaming.dataset.testid = "streaming";
    streaming.classList.add("gb-streaming");
    transcript.append(streaming);
    stopButton.hidden = false;
    stopButton.disabled = false;
  }
  const span = streaming.querySelector(".gb-text");
  span.textContent += String(text ?? "");
  transcript.scrollTop = transcript.scrollHeight;
}

function dropStreaming() {
  if (streaming) streaming.remove();
  streaming = null;
  stopButton.hidden = true;
}

stopButton.addEventListener("click", () => {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
  stopButton.disabled = true; // once: the reply frame that follows hides it
});

function append(messages) {
  dropStreaming();
  for (const message of messages) {
    history.push(message);
    transcript.append(bubble(message));
  }
  refresh();
}

function currentChoices() {
  const last = history[history.length - 1];
  if (pending || !last || last.role === "user") return [];
  if (last.role === "assistant" && Array.isArray(last.choices) && last.choices.length) return last.choices;
  return Array.isArray(waiting?.choices) ? waiting.choices : [];
}

function choiceButton(choice) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "gb-choice";
  button.dataset.testid = "choice";
  button.textContent = String(choice);
  button.addEventListener("click", () => send(String(choice)));
  return button;
}

function setSuggestions(list) {
  suggestions = Array.isArray(list)
    ? list.filter((s) => s && typeof s.text === "string" && typeof s.value === "string")
    : [];
}

function suggestionButton(suggestion) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `gb-suggestion gb-suggestion-${suggestion.kind === "switcher" ? "switcher" : "button"}`;
  button.dataset.testid = "suggestion";
  button.dataset.kind = String(suggestion.kind ?? "text");
  if (suggestion.kind === "switcher") button.setAttribute("aria-pressed", String(Boolean(suggestion.active)));
  button.textContent = suggestion.text;
  button.addEventListener("click", () => send(suggestion.value));
  return button;
}

function refresh() {
  const choices = ready ? currentChoices() : [];
  choicesBox.replaceChildren(...choices.map(choiceButton));
  choicesBox.hidden = choices.length === 0;
  const offered = ready && !pending ? suggestions : [];
  suggestionsBox.replaceChildren(...offered.map(suggestionButton));
  suggestionsBox.hidden = offered.length === 0;
  let line = "";
  if (pending) line = `${bot} is typing…`;
  else if (waiting?.kind === "wait") line = `${bot} will continue in a moment`;
  else if (waiting) line = `${bot} is waiting for your answer${waiting.type ? ` (${String(waiting.type).toLowerCase()})` : ""}`;
  waitingLine.textContent = line;
  waitingLine.hidden = !line;
  sendButton.disabled = !ready;
  attachButton.disabled = !token || pending;
  const wanted = waiting?.kind !== "wait" && waiting?.type in FILE_TYPES;
  attachButton.dataset.wanted = String(Boolean(wanted));
  fileInput.accept = wanted ? FILE_TYPES[waiting.type] : "";
  transcript.scrollTop = transcript.scrollHeight;
}

function setStatus(state) {
  statusEl.textContent = state;
  statusEl.dataset.state = state;
}

function showError(text) {
  errorBox.textContent = text || "";
  errorBox.hidden = !text;
}

// --- session and socket ---

async function newSession() {
  const response = await fetch(`${base}/api/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: "{}",
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.token !== "string") {
    throw new Error(body.error?.message || `Could not start a conversation (HTTP ${response.status}).`);
  }
  token = body.token;
  saveToken(token);
  waiting = body.waiting ?? null;
  setSuggestions(body.suggestions);
  renderAll(body.messages);
}

async function start() {
  timer = null;
  try {
    if (!token) await newSession();
  } catch (err) {
    showError(err.message || "Could not start a conversation.");
    scheduleReconnect();
    return;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const sock = new WebSocket(`${scheme}://${location.host}${base}/ws`);
  socket = sock;
  sock.onopen = () => sock.send(JSON.stringify({ type: "hello", token }));
  sock.onmessage = (event) => {
    if (sock === socket) receive(event.data);
  };
  sock.onclose = () => {
    if (sock !== socket) return; // replaced on purpose
    socket = null;
    ready = false;
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  setStatus("reconnecting");
  refresh();
  const delay = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  attempt += 1;
  clearTimeout(timer);
  timer = setTimeout(start, delay);
}

function startNewSession() {
  token = null;
  saveToken(null);
  const old = socket;
  socket = null;
  ready = false;
  if (old) old.close();
  scheduleReconnect(); // start() posts a new session, then says hello
}

function receive(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  if (frame.type === "ready") {
    ready = true;
    pending = false;
    attempt = 0;
    origin = typeof frame.origin === "string" ? frame.origin : null;
    setStatus("connected");
    waiting = frame.waiting ?? null;
    setSuggestions(frame.suggestions);
    renderAll(frame.messages);
  } else if (frame.type === "delta") {
    grow(frame.text);
  } else if (frame.type === "reply") {
    pending = false;
    waiting = frame.waiting ?? null;
    setSuggestions(frame.suggestions);
    const echo = typeof frame.echo === "string" ? [{ role: "user", content: frame.echo }] : [];
    append([...echo, ...(Array.isArray(frame.messages) ? frame.messages : [])]);
  } else if (frame.type === "error") {
    dropStreaming();
    const error = frame.error || {};
    pending = false;
    showError(error.message || error.code || "Something went wrong.");
    if (NEW_SESSION_CODES.has(error.code)) startNewSession();
    else if (!ready && socket) socket.close(); // hello refused (server busy...): retry with backoff
    else refresh();
  }
}

function send(text) {
  const clean = text.trim();
  if (!clean) return false;
  if (!ready || !socket || socket.readyState !== WebSocket.OPEN) {
    showError("Not connected yet; please try again in a moment.");
    return false;
  }
  socket.send(JSON.stringify({ type: "message", text: clean }));
  showError("");
  pending = true;
  append([{ role: "user", content: clean }]);
  return true;
}

async function upload(file) {
  if (!token || !file) return;
  if (maxUploadBytes && file.size > maxUploadBytes) {
    showError(`The file is larger than ${root.dataset.maxUploadMb} MB, the most this bot takes.`);
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (origin && ready) headers["X-GB-Origin"] = origin;
  showError("");
  pending = true;
  refresh();
  let response = null;
  let reply = {};
  try {
    response = await fetch(`${base}/api/upload`, { method: "POST", headers, body, credentials: "same-origin" });
    reply = await response.json().catch(() => ({}));
  } catch {
    response = null;
  }
  pending = false;
  if (!response || !response.ok) {
    const error = reply.error || {};
    showError(error.message || "The file could not be sent; please try again.");
    if (NEW_SESSION_CODES.has(error.code)) startNewSession();
    refresh();
    return;
  }
  waiting = reply.waiting ?? null;
  setSuggestions(reply.suggestions);
  const sent = reply.received ?? { role: "user", content: `[file] ${file.name}`, file: reply.file };
  append([sent, ...(Array.isArray(reply.messages) ? reply.messages : [])]);
}

attachButton.addEventListener("click", () => fileInput.click());

fileInput.addEventListener("change", () => {
  const file = fileInput.files && fileInput.files[0];
  fileInput.value = ""; // the same file may be chosen again
  upload(file);
});

form.addEventListener("submit", (event) => {
  event.preventDefault(); // Enter in the input submits the form
  if (send(input.value)) input.value = "";
  input.focus();
});

window.addEventListener("online", () => {
  if (timer === null) return;
  clearTimeout(timer); // back online: retry now
  start();
});

refresh();
start();
input.focus();
