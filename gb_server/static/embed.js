// The embed snippet: one tag puts a bot's web chat on another site.
//
//   <script src="https://bots.example.com/static/embed.js" data-bot="support" async></script>
//
// It adds a round button at the bottom right; the button opens the chat in a panel: an iframe
// of https://bots.example.com/support, so the chat keeps its own origin (its token in its own
// storage, out of the host page's reach) and its own styles. The chat page may be framed only
// by the sites of GB_CORS_ORIGINS (its Content-Security-Policy's frame-ancestors): elsewhere
// the panel stays empty. Options, as data- attributes of the tag: data-bot (default: the
// default bot), data-label (the button's name), data-color (the button's CSS hex colour),
// data-open="true" (the panel open at load).
(() => {
  const script = document.currentScript;
  if (!script || !script.src) return;
  const server = new URL(script.src).origin;
  const botName = (script.dataset.bot || "").replace(/[^A-Za-z0-9_-]/g, "");
  const label = script.dataset.label || "Chat with us";
  const color = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(script.dataset.color || "") ? script.dataset.color : "#2563eb";

  const css = (el, styles) => Object.assign(el.style, styles);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "gb-embed-button";
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-expanded", "false");
  button.title = label;
  button.textContent = "💬";
  css(button, {
    position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000", width: "56px", height: "56px",
    border: "0", borderRadius: "50%", background: color, color: "#fff", fontSize: "26px", cursor: "pointer",
    boxShadow: "0 4px 14px rgba(0,0,0,.25)",
  });

  const panel = document.createElement("div");
  panel.className = "gb-embed-panel";
  panel.hidden = true;
  css(panel, {
    position: "fixed", right: "20px", bottom: "88px", zIndex: "2147483000", width: "min(400px, calc(100vw - 40px))",
    height: "min(640px, calc(100vh - 120px))", borderRadius: "16px", overflow: "hidden", background: "#fff",
    boxShadow: "0 8px 30px rgba(0,0,0,.3)",
  });

  let frame = null; // made at the first opening: a page that never opens the chat starts no session
  function toggle(open) {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.className = "gb-embed-frame";
      frame.title = label;
      frame.src = `${server}/${botName}`;
      css(frame, { width: "100%", height: "100%", border: "0" });
      panel.append(frame);
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "✕" : "💬";
    if (open) frame.focus();
  }

  button.addEventListener("click", () => toggle(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      toggle(false);
      button.focus();
    }
  });
  const mount = () => {
    document.body.append(panel, button);
    if (script.dataset.open === "true") toggle(true);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
