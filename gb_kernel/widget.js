// Chat panel of the gb kernel's ChatWidget: an anywidget ES module, shipped as-is (no build step).
// Message text and variable values are user data: they are only ever inserted with textContent.

/** Create an element with a class and, for browser tests, a data-testid. */
function h(tag, className, testid) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  return node;
}

/** The choices of the last assistant message, unless the user has answered it already. */
function pendingChoices(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role === "user") return [];
    if (message.role === "assistant") return Array.isArray(message.choices) ? message.choices : [];
  }
  return [];
}

/** A value as compact JSON, falling back to String() for what JSON cannot encode. */
function compactJson(value) {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

export default {
  render({ model, el }) {
    const root = h("div", "gb-chat", "gb-chat");
    const header = h("div", "gb-header");
    const transcript = h("div", "gb-transcript");
    transcript.setAttribute("role", "log");
    transcript.setAttribute("aria-live", "polite");
    const choices = h("div", "gb-choices");
    const suggestions = h("div", "gb-suggestions", "gb-suggestions");
    const waiting = h("div", "gb-waiting", "gb-waiting");
    const alert = h("div", "gb-error", "gb-error");
    alert.setAttribute("role", "alert");
    const alertText = h("span", "gb-error-text");
    const dismiss = h("button", "gb-error-dismiss", "gb-error-dismiss");
    dismiss.type = "button";
    dismiss.textContent = "×";
    dismiss.setAttribute("aria-label", "Dismiss the error");
    dismiss.addEventListener("click", () => {
      model.set("error", "");
      model.save_changes();
    });
    alert.append(alertText, dismiss);
    const form = h("div", "gb-form");
    const input = h("input", "gb-input", "gb-input");
    input.type = "text";
    input.placeholder = "Type a message…";
    input.setAttribute("aria-label", "Message to the bot");
    const sendButton = h("button", "gb-send", "gb-send");
    sendButton.type = "button";
    sendButton.textContent = "Send";
    // while an LLM's answer streams: stops it (the kernel keeps nothing of it and says so)
    const stopButton = h("button", "gb-stop", "gb-stop");
    stopButton.type = "button";
    stopButton.textContent = "Stop";
    stopButton.hidden = true;
    stopButton.addEventListener("click", () => {
      model.send({ type: "stop" });
      stopButton.disabled = true;
    });
    form.append(input, stopButton, sendButton);
    const vars = h("table", "gb-vars", "gb-vars");
    root.append(header, transcript, choices, suggestions, waiting, alert, form, vars);
    el.append(root);

    // The kernel appends the user's message to `messages`: no optimistic bubble here.
    function send(text) {
      if (model.get("busy") || !text.trim()) return false;
      model.send({ type: "send", text });
      return true;
    }

    function sendInput() {
      if (send(input.value.trim())) input.value = "";
    }

    function renderHeader() {
      const sessionId = model.get("session_id") || "";
      header.replaceChildren();
      const bot = h("span", "gb-bot", "gb-header-bot");
      bot.textContent = model.get("bot") || "bot";
      const channel = h("span", "gb-channel", "gb-header-channel");
      channel.textContent = model.get("channel") || "";
      channel.hidden = !model.get("channel");
      const session = h("span", "gb-session", "gb-header-session");
      session.textContent = sessionId ? `session ${sessionId.slice(0, 8)}` : "no session";
      session.title = sessionId;
      header.append(bot, channel, session);
    }

    // An LLM's answer as it is generated: one bubble after the transcript, its text replaced on
    // each change (the transcript itself is not rebuilt); the finished answer takes its place.
    let streaming = null;

    function renderMessages() {
      const messages = model.get("messages") || [];
      transcript.replaceChildren();
      for (const message of messages) {
        if (message.role === "system") continue; // notes and errors are not the conversation
        const role = message.role === "user" ? "user" : "assistant";
        const bubble = h("div", `gb-message gb-message-${role}`, "gb-message");
        bubble.dataset.role = role;
        bubble.textContent = String(message.content ?? "");
        transcript.append(bubble);
      }
      streaming = null;
      renderStreaming();
      renderChoices();
    }

    // The menu the bot waits at, or Yes / No for a HEAR ... AS BOOLEAN.
    function renderChoices() {
      const messages = model.get("messages") || [];
      const menu = pendingChoices(messages).map((choice) => [String(choice), String(choice)]);
      const yesNo = model.get("hear_type") === "BOOLEAN" ? [["Yes", "yes"], ["No", "no"]] : [];
      choices.replaceChildren();
      for (const [label, value] of menu.length ? menu : yesNo) {
        const button = h("button", "gb-choice", menu.length ? "gb-choice" : "gb-yes-no");
        button.type = "button";
        button.textContent = label;
        button.disabled = Boolean(model.get("busy"));
        button.addEventListener("click", () => send(value));
        choices.append(button);
      }
      choices.hidden = choices.childElementCount === 0;
    }

    function renderError() {
      const text = String(model.get("error") || "");
      alertText.textContent = text;
      alert.hidden = !text;
    }

    function renderStreaming() {
      const growing = String(model.get("streaming") || "");
      stopButton.hidden = !growing;
      if (!growing) stopButton.disabled = false;
      if (!growing) {
        if (streaming) streaming.remove();
        streaming = null;
      } else {
        if (!streaming) {
          streaming = h("div", "gb-message gb-message-assistant gb-streaming", "gb-streaming");
          streaming.dataset.role = "assistant";
          transcript.append(streaming);
        }
        streaming.textContent = growing;
      }
      transcript.scrollTop = transcript.scrollHeight;
    }

    function renderSuggestions() {
      suggestions.replaceChildren();
      for (const suggestion of model.get("suggestions") || []) {
        if (typeof suggestion?.text !== "string" || typeof suggestion?.value !== "string") continue;
        const button = h("button", "gb-suggestion", "gb-suggestion");
        button.type = "button";
        button.dataset.kind = String(suggestion.kind ?? "text");
        if (suggestion.kind === "switcher") button.setAttribute("aria-pressed", String(Boolean(suggestion.active)));
        button.textContent = suggestion.text;
        button.disabled = Boolean(model.get("busy"));
        button.addEventListener("click", () => send(suggestion.value));
        suggestions.append(button);
      }
      suggestions.hidden = suggestions.childElementCount === 0;
    }

    function renderWaiting() {
      const what = model.get("waiting") || "";
      waiting.textContent = what ? `waiting for: ${what}` : "";
      waiting.hidden = !what;
    }

    function renderVariables() {
      const variables = model.get("variables") || {};
      const names = Object.keys(variables).sort();
      vars.replaceChildren();
      vars.hidden = names.length === 0;
      const head = vars.createTHead().insertRow();
      for (const title of ["name", "value"]) {
        const th = h("th");
        th.textContent = title;
        head.append(th);
      }
      const body = vars.createTBody();
      for (const name of names) {
        const row = h("tr", "gb-var-row", "gb-var-row");
        const nameCell = h("td", "gb-var-name");
        nameCell.textContent = name;
        const valueCell = h("td", "gb-var-value");
        valueCell.textContent = compactJson(variables[name]);
        row.append(nameCell, valueCell);
        body.append(row);
      }
    }

    let refocus = false;
    function renderBusy() {
      const busy = Boolean(model.get("busy"));
      if (busy && document.activeElement === input) refocus = true;
      root.classList.toggle("gb-busy", busy);
      root.setAttribute("aria-busy", String(busy));
      input.disabled = busy;
      sendButton.disabled = busy;
      for (const button of root.querySelectorAll(".gb-choice, .gb-suggestion")) button.disabled = busy;
      if (!busy && refocus) {
        refocus = false;
        input.focus();
      }
    }

    input.addEventListener("keydown", (event) => {
      // JupyterLab handles keys at the notebook level: without this, Enter would run the cell.
      event.stopPropagation();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendInput();
      }
    });
    sendButton.addEventListener("click", sendInput);

    const listeners = [
      ["change:bot", renderHeader],
      ["change:channel", renderHeader],
      ["change:session_id", renderHeader],
      ["change:hear_type", renderChoices],
      ["change:error", renderError],
      ["change:messages", renderMessages],
      ["change:streaming", renderStreaming],
      ["change:suggestions", renderSuggestions],
      ["change:waiting", renderWaiting],
      ["change:variables", renderVariables],
      ["change:busy", renderBusy],
    ];
    for (const [event, callback] of listeners) model.on(event, callback);
    renderHeader();
    renderMessages();
    renderSuggestions();
    renderWaiting();
    renderError();
    renderVariables();
    renderBusy();
    return () => {
      for (const [event, callback] of listeners) model.off(event, callback);
    };
  },
};
