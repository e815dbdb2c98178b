// General Bots web chat: one bot's conversation, live over a WebSocket.
//
// The token is kept in localStorage under "gb.token.<bot>"; it is sent only in the body of
// POST {base}/api/session's answer and inside the socket's first frame (never in a URL, never logged).
//   POST {base}/api/session {}            -> 201 {session_id, token, bot, messages, waiting, suggestions}
//   DELETE {base}/api/session (Bearer)    -> 204: the "new conversation" button ends the session first
//   POST {base}/api/upload (Bearer, multipart field "file", X-GB-Origin: the socket's origin)
//                                        -> 200 {messages, waiting, suggestions, file, received}
//   WS {base}/ws  client: {"type": "hello", "token"} first, then {"type": "message", "text"}, {"type": "stop"}
//                 server: {"type": "ready", session_id, messages, waiting, suggestions, origin}  (the whole history)
//                         {"type": "reply", messages, waiting, suggestions, echo?}  (echo: sent by another tab)
//                         {"type": "delta", text}  (a piece of an LLM's answer as it is generated)
//                         {"type": "error", error: {code, message}}
// Suggestions (ADD SUGGESTION, ADD SWITCHER) are the bot's buttons as of its last turn: each frame
// replaces them; a click sends the button's value as a message. A menu (HEAR x AS "A", "B") and a
// BOOLEAN HEAR (Yes / No) show as choice buttons.
// The bot's look comes from the page (config.csv bot-name, bot-avatar, theme-color, language).
// User text is inserted with textContent only; the bot's messages are markdown (marked), turned
// into HTML that DOMPurify sanitises, raw HTML in them shown as text. Both libraries are vendored
// from npm (web/package-lock.json) by `make install` into static/vendor/.
// Files: the attach button (always there: a file may answer any HEAR, and one sent unasked is kept;
// it is marked when the dialog waits for a file) uploads one; a message that carries a file
// ({file: {name, type, size, url}}: the user's upload, the bot's SEND FILE) shows a link to it,
// and the image itself or an audio player for those types.

import DOMPurify from "./vendor/purify.es.mjs";
import { Marked } from "./vendor/marked.esm.js";
import { textsFor } from "./chat-texts.js";

const root = document.getElementById("gb-chat");
const bot = root.dataset.bot || "default";
const base = (root.dataset.base || "").replace(/\/+$/, "");
const botName = root.dataset.botName || bot;
const avatarUrl = safeUrl(root.dataset.avatar || "");
const T = textsFor(root.dataset.language || document.documentElement.lang || "en");
const part = (id) => root.querySelector(`[data-testid="${id}"]`);
const transcript = part("transcript");
const typingBox = part("typing");
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
const newButton = part("new-conversation");
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

// --- the bot's look and the page's words ---

// theme-color is checked by the server (a CSS hex colour, else the default); checked again here,
// and the text on it is black or white, whichever contrasts more (WCAG relative luminance).
function luminance(hex) {
  const full = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, "$&$&").slice(1) : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function applyTheme(color) {
  if (!HEX.test(color)) return;
  const lum = luminance(color);
  const onAccent = contrast(lum, 1) >= contrast(lum, 0) ? "#ffffff" : "#000000";
  root.style.setProperty("--gb-accent", color);
  root.style.setProperty("--gb-accent-text", onAccent);
  // borders and focus rings in the accent where it stands out from the panel (3:1, light or dark
  // scheme), else in the text's colour
  const css = getComputedStyle(document.documentElement);
  const panel = css.getPropertyValue("--gb-panel").trim();
  const text = css.getPropertyValue("--gb-text").trim();
  const line = !HEX.test(panel) || contrast(lum, luminance(panel)) >= 3 ? color : text;
  root.style.setProperty("--gb-accent-line", line);
}

function avatar(extra = "") {
  const el = document.createElement("span");
  el.className = `gb-avatar ${extra}`.trim();
  el.setAttribute("aria-hidden", "true");
  fillAvatar(el);
  return el;
}

function fillAvatar(el) {
  if (avatarUrl) {
    const img = document.createElement("img");
    img.src = avatarUrl;
    img.alt = "";
    el.replaceChildren(img);
  } else {
    el.textContent = Array.from(botName.trim())[0]?.toUpperCase() || "?";
  }
}

function applyLook() {
  applyTheme(root.dataset.themeColor || "");
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(root.dataset.themeColor || ""));
  document.title = botName;
  root.querySelectorAll(".gb-avatar").forEach(fillAvatar);
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.message);
  sendButton.textContent = T.send;
  stopButton.textContent = T.stop;
  stopButton.title = T.stopTitle;
  attachButton.setAttribute("aria-label", T.attach);
  attachButton.title = T.attach;
  newButton.textContent = T.newConversation;
  transcript.setAttribute("aria-label", T.conversation);
  suggestionsBox.setAttribute("aria-label", T.suggestions);
  choicesBox.setAttribute("aria-label", T.choices);
  typingBox.querySelector(".gb-typing-text").textContent = T.typing(botName);
}

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

// --- markdown (the bot's messages only) ---

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// raw HTML in a bot's message (which may hold what a user typed: TALK "Hi " + name) is text
const markdown = new Marked({ gfm: true, breaks: true, renderer: { html: (token) => escapeHtml(token.text) } });
const ALLOWED_TAGS = ["p", "br", "strong", "b", "em", "i", "del", "code", "pre", "a", "ul", "ol", "li",
  "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"];

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

function renderMarkdown(text) {
  return DOMPurify.sanitize(markdown.parse(text), {
    ALLOWED_TAGS, ALLOWED_ATTR: ["href", "title", "start"], RETURN_DOM_FRAGMENT: true,
  });
}

// --- rendering ---

const clock = new Intl.DateTimeFormat(T.locale, { hour: "2-digit", minute: "2-digit" });
const fullDate = new Intl.DateTimeFormat(T.locale, { dateStyle: "medium", timeStyle: "short" });

function timeOf(message) {
  const when = message.timestamp ? new Date(message.timestamp) : message.local ? new Date() : null;
  if (!when || Number.isNaN(when.getTime())) return null;
  const el = document.createElement("time");
  el.className = "gb-time";
  el.dataset.testid = "time";
  el.dateTime = when.toISOString();
  el.textContent = clock.format(when);
  el.title = fullDate.format(when);
  return el;
}

// A row: [avatar] the message bubble (data-testid="message": its text is the message's only) and its time.
function bubble(message) {
  const role = ROLES.has(message.role) ? message.role : "system";
  const row = document.createElement("div");
  row.className = `gb-row gb-row-${role}`;
  const who = document.createElement("span");
  who.className = "gb-sr";
  who.textContent = role === "user" ? `${T.you}:` : role === "assistant" ? `${botName}:` : "";
  row.append(who);
  if (role === "assistant") row.append(avatar());
  const column = document.createElement("div");
  column.className = "gb-column";
  const el = document.createElement("div");
  el.className = `gb-message gb-${role}`;
  el.dataset.testid = "message";
  el.dataset.role = role;
  const file = message.file && typeof message.file === "object" ? message.file : null;
  const text = String(message.content ?? "");
  if (!file || (text !== file.name && text !== `[file] ${file.name}`)) {
    const span = document.createElement(role === "assistant" ? "div" : "span");
    span.className = role === "assistant" ? "gb-text gb-md" : "gb-text";
    if (role === "assistant") span.append(renderMarkdown(text));
    else span.textContent = text;
    el.append(span);
  }
  if (file) el.append(...fileParts(file));
  column.append(el);
  const time = timeOf(message);
  if (time) column.append(time);
  row.append(column);
  return row;
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
// Stop button (or Escape) asks the server to stop it ({"type": "stop"}): the reply then says so.
// The transcript is aria-busy meanwhile: a screen reader reads the answer once, when it is whole.
let streaming = null;
let streamed = "";

function grow(text) {
  if (!streaming) {
    streaming = bubble({ role: "assistant", content: "" });
    streaming.querySelector(".gb-message").dataset.testid = "streaming";
    streaming.classList.add("gb-streaming");
    streamed = "";
    transcript.append(streaming);
    transcript.setAttribute("aria-busy", "true");
    stopButton.hidden = false;
    stopButton.disabled = false;
  }
  streamed += String(text ?? "");
  streaming.querySelector(".gb-text").replaceChildren(renderMarkdown(streamed));
  refresh();
}

function dropStreaming() {
  if (streaming) streaming.remove();
  streaming = null;
  transcript.removeAttribute("aria-busy");
  stopButton.hidden = true;
}

function stopAnswer() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
  stopButton.disabled = true; // once: the reply frame that follows hides it
  input.focus();
}

stopButton.addEventListener("click", stopAnswer);

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
  if (Array.isArray(waiting?.choices) && waiting.choices.length) return waiting.choices;
  return waiting?.kind !== "wait" && waiting?.type === "BOOLEAN" ? [T.yes, T.no] : [];
}

function choiceButton(choice) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "gb-choice";
  button.dataset.testid = "choice";
  button.textContent = String(choice);
  button.addEventListener("click", () => {
    send(String(choice));
    input.focus();
  });
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
  button.addEventListener("click", () => {
    send(suggestion.value);
    input.focus();
  });
  return button;
}

// What the user is asked for, in their words: "Type your e-mail address", "Choose an option ...".
function hint() {
  if (!ready || pending) return "";
  if (waiting?.kind === "wait") return T.later(botName);
  if (!waiting) return "";
  if (currentChoices().length) return waiting.type === "BOOLEAN" ? T.hints.BOOLEAN : T.menu;
  return T.hints[waiting.type] || "";
}

function refresh() {
  const choices = ready ? currentChoices() : [];
  const focused = document.activeElement;
  choicesBox.replaceChildren(...choices.map(choiceButton));
  choicesBox.hidden = choices.length === 0;
  const offered = ready && !pending ? suggestions : [];
  suggestionsBox.replaceChildren(...offered.map(suggestionButton));
  suggestionsBox.hidden = offered.length === 0;
  if (focused && focused !== document.body && !focused.isConnected) input.focus(); // its button is gone
  typingBox.hidden = !(pending && !streaming);
  const line = hint();
  waitingLine.textContent = line;
  waitingLine.hidden = !line;
  input.placeholder = line && waiting?.kind !== "wait" ? line : T.placeholder;
  sendButton.disabled = !ready || !input.value.trim();
  attachButton.disabled = !token || pending;
  const wanted = waiting?.kind !== "wait" && waiting?.type in FILE_TYPES;
  attachButton.dataset.wanted = String(Boolean(wanted));
  fileInput.accept = wanted ? FILE_TYPES[waiting.type] : "";
  transcript.scrollTop = transcript.scrollHeight;
}

function setStatus(state) {
  statusEl.textContent = T.status[state] || state;
  statusEl.dataset.state = state;
}

function showError(text) {
  errorBox.textContent = text || "";
  errorBox.hidden = !text;
}

// An error frame or response in the user's words (the server's message is for developers; it is
// shown only for a code that has no words here).
function errorText(error) {
  if (NEW_SESSION_CODES.has(error.code)) return T.errors.ended;
  return T.errors[error.code] || error.message || T.errors.generic;
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
    throw new Error(body.error ? errorText(body.error) : T.errors.start);
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
    showError(err.message || T.errors.start);
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
  pending = false;
  dropStreaming();
  if (old) old.close();
  scheduleReconnect(); // start() posts a new session, then says hello
}

// "New conversation": the session is ended on the server (DELETE /api/session), then another starts.
async function newConversation() {
  const ended = token;
  const old = socket;
  newButton.disabled = true;
  clearTimeout(timer);
  timer = null;
  token = null;
  saveToken(null);
  socket = null;
  ready = false;
  pending = false;
  attempt = 0;
  dropStreaming();
  if (old) old.close();
  showError("");
  waiting = null;
  suggestions = [];
  renderAll([]);
  setStatus("connecting");
  if (ended) {
    await fetch(`${base}/api/session`, {
      method: "DELETE", headers: { Authorization: `Bearer ${ended}` }, credentials: "same-origin",
    }).catch(() => null); // already ended, or the server away: the new conversation starts all the same
  }
  await start();
  newButton.disabled = false;
  input.focus();
}

newButton.addEventListener("click", newConversation);

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
    const echo = typeof frame.echo === "string" ? [{ role: "user", content: frame.echo, local: true }] : [];
    append([...echo, ...(Array.isArray(frame.messages) ? frame.messages : [])]);
  } else if (frame.type === "error") {
    dropStreaming();
    const error = frame.error || {};
    pending = false;
    showError(errorText(error));
    if (NEW_SESSION_CODES.has(error.code)) startNewSession();
    else if (!ready && socket) socket.close(); // hello refused (server busy...): retry with backoff
    else refresh();
  }
}

function send(text) {
  const clean = text.trim();
  if (!clean) return false; // an empty or blank message is not sent
  if (!ready || !socket || socket.readyState !== WebSocket.OPEN) {
    showError(T.errors.notConnected);
    return false;
  }
  socket.send(JSON.stringify({ type: "message", text: clean }));
  showError("");
  pending = true;
  append([{ role: "user", content: clean, local: true }]);
  return true;
}

async function upload(file) {
  if (!token || !file) return;
  if (maxUploadBytes && file.size > maxUploadBytes) {
    showError(T.errors.fileTooLarge(root.dataset.maxUploadMb));
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
    showError(error.code ? errorText(error) : T.errors.upload);
    if (NEW_SESSION_CODES.has(error.code)) startNewSession();
    refresh();
    return;
  }
  waiting = reply.waiting ?? null;
  setSuggestions(reply.suggestions);
  const sent = reply.received ?? { role: "user", content: `[file] ${file.name}`, file: reply.file, local: true };
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
  refresh();
  input.focus();
});

input.addEventListener("input", () => {
  sendButton.disabled = !ready || !input.value.trim();
});

root.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && streaming && !stopButton.disabled) stopAnswer();
});

window.addEventListener("online", () => {
  if (timer === null) return;
  clearTimeout(timer); // back online: retry now
  start();
});

applyLook();
setStatus("connecting");
refresh();
start();
input.focus();
