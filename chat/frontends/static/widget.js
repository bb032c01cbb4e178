/*
 * recochat chat widget. Embed with one tag:
 *
 *   <script src="https://API/widget.js" data-api-url="https://API" data-key="rc_..."></script>
 *
 * Optional: data-title, data-greeting, data-open="true".
 *
 * Plain JavaScript, no build step. It lives in a shadow root, so the shop's CSS
 * and ours never mix. Safety rules, kept everywhere below:
 *  - every string from the catalog, the model or the user is put in the page with
 *    textContent (never innerHTML), so markup in it shows as text and never runs;
 *  - links and images come only from catalog fields and only with http(s) URLs
 *    (never javascript:), opened with noopener/noreferrer; images load with no
 *    referrer, and no URL is ever built from conversation text.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__recochatWidget) return;
  window.__recochatWidget = true;

  var apiUrl = (script.getAttribute("data-api-url") || new URL(script.src, location.href).origin)
    .replace(/\/+$/, "");
  var apiKey = script.getAttribute("data-key") || "";
  var title = script.getAttribute("data-title") || "Shop assistant";
  var greeting = script.getAttribute("data-greeting") || "Hi! Tell me what you are looking for.";
  var sessionKey = "recochat:" + apiUrl + ":session";
  var openKey = "recochat:" + apiUrl + ":open";

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }",
    ".rc-launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px;",
    "  border-radius: 50%; border: 0; background: #2456d3; color: #fff; display: grid; place-items: center;",
    "  cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000; }",
    ".rc-panel { position: fixed; right: 20px; bottom: 88px; width: 370px; max-width: calc(100vw - 40px);",
    "  height: 560px; max-height: calc(100vh - 110px); background: #fff; color: #1f2328;",
    "  border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.25); display: flex;",
    "  flex-direction: column; overflow: hidden; z-index: 2147483000; font-size: 14px; }",
    ".rc-panel[hidden] { display: none; }",
    ".rc-head { display: flex; align-items: center; gap: 6px; padding: 10px 12px;",
    "  background: #2456d3; color: #fff; }",
    ".rc-head-title { flex: 1; font-weight: 600; }",
    ".rc-head button { background: transparent; border: 0; color: #fff; font-size: 16px; cursor: pointer; }",
    ".rc-log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }",
    ".rc-msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap;",
    "  overflow-wrap: anywhere; line-height: 1.4; }",
    ".rc-user { align-self: flex-end; background: #2456d3; color: #fff; }",
    ".rc-bot { align-self: flex-start; background: #f0f2f5; }",
    ".rc-bot.rc-pending:empty::after { content: '…'; }",
    ".rc-bot.rc-error { background: #fde8e8; color: #8a1c1c; }",
    ".rc-cards { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }",
    ".rc-card { display: flex; gap: 10px; border: 1px solid #d0d7de; border-radius: 10px; padding: 8px; }",
    ".rc-card img { width: 56px; height: 56px; object-fit: cover; border-radius: 6px; flex: none; }",
    ".rc-card-body { flex: 1; min-width: 0; }",
    ".rc-title { font-weight: 600; overflow-wrap: anywhere; }",
    ".rc-title a { color: inherit; }",
    ".rc-price { color: #1a7f37; font-weight: 600; }",
    ".rc-why { color: #59636e; font-size: 12.5px; overflow-wrap: anywhere; }",
    ".rc-actions { display: flex; gap: 6px; margin-top: 4px; }",
    ".rc-actions button { border: 1px solid #d0d7de; background: #fff; border-radius: 6px;",
    "  cursor: pointer; padding: 2px 8px; font-size: 13px; }",
    ".rc-actions button[aria-pressed='true'] { background: #ddf4ff; border-color: #2456d3; }",
    ".rc-options { display: flex; flex-wrap: wrap; gap: 6px; }",
    ".rc-option { border: 1px solid #2456d3; color: #2456d3; background: #fff; border-radius: 14px;",
    "  padding: 3px 10px; cursor: pointer; font-size: 13px; }",
    ".rc-form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e5e7eb; }",
    ".rc-input { flex: 1; resize: none; border: 1px solid #d0d7de; border-radius: 8px; padding: 8px;",
    "  font-size: 14px; height: 40px; }",
    ".rc-send { border: 0; border-radius: 8px; background: #2456d3; color: #fff; padding: 0 14px; cursor: pointer; }",
    ".rc-send:disabled { opacity: .5; cursor: default; }"
  ].join("\n");

  // --- building blocks: elements whose text is always set with textContent ------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, apiUrl);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function money(price, currency) {
    if (typeof price !== "number") return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" })
        .format(price);
    } catch (e) {
      return price.toFixed(2) + (currency ? " " + currency : "");
    }
  }

  function bubbleIcon() {  // a speech bubble, drawn: emoji fonts are not everywhere
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M6 4h12a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  // --- the page -----------------------------------------------------------------------

  var host = el("div");
  host.id = "recochat-widget";
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", null, CSS));

  var launcher = el("button", "rc-launcher");
  launcher.appendChild(bubbleIcon());
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Open chat");
  launcher.setAttribute("aria-expanded", "false");

  var panel = el("section", "rc-panel");
  panel.hidden = true;
  panel.setAttribute("aria-label", title);
  var head = el("div", "rc-head");
  head.appendChild(el("span", "rc-head-title", title));
  var restart = el("button", "rc-restart", "\u21BB");
  restart.type = "button";
  restart.title = "New conversation";
  restart.setAttribute("aria-label", "New conversation");
  var close = el("button", "rc-close", "\u00D7");
  close.type = "button";
  close.setAttribute("aria-label", "Close chat");
  head.appendChild(restart);
  head.appendChild(close);

  var log = el("div", "rc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");

  var form = el("form", "rc-form");
  var input = el("textarea", "rc-input");
  input.placeholder = "e.g. wireless earbuds for running";
  input.setAttribute("aria-label", "Message");
  input.maxLength = 2000;
  var sendButton = el("button", "rc-send", "Send");
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  // --- state ----------------------------------------------------------------------------

  var sessionId = null;
  try { sessionId = localStorage.getItem(sessionKey); } catch (e) { /* storage blocked */ }
  var busy = false;
  var restored = false;
  var feedbackByItem = {};

  function remember(id) {
    sessionId = id;
    try {
      if (id) localStorage.setItem(sessionKey, id);
      else localStorage.removeItem(sessionKey);
    } catch (e) { /* storage blocked: the conversation lasts as long as the page */ }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(role, text) {
    var node = el("div", "rc-msg " + (role === "user" ? "rc-user" : "rc-bot"), text);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  // --- the API ----------------------------------------------------------------------------

  function call(method, path, body, accept) {
    var headers = { "Authorization": "Bearer " + apiKey, "Accept": accept || "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(apiUrl + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      referrerPolicy: "no-referrer",
      cache: "no-store"
    });
  }

  function problem(response) {
    return response.json().then(function (data) {
      var message = data && data.error && data.error.message;
      if (response.status === 401) return "This chat is not set up correctly (its key was refused).";
      if (response.status === 429) {
        var wait = response.headers.get("Retry-After");
        return "Too many messages right now." + (wait ? " Please try again in " + wait + " s." : "");
      }
      return message || "Something went wrong (" + response.status + "). Please try again.";
    }, function () {
      return "Something went wrong (" + response.status + "). Please try again.";
    });
  }

  function newSession() {
    return call("POST", "/v1/sessions", {}).then(function (r) {
      if (!r.ok) return problem(r).then(function (m) { throw new Error(m); });
      return r.json().then(function (d) { remember(d.session_id); return d.session_id; });
    });
  }

  function sendFeedback(itemId, kind, buttons) {
    if (!sessionId) return;
    call("POST", "/v1/sessions/" + encodeURIComponent(sessionId) + "/feedback",
         { item_id: itemId, kind: kind }).then(function (r) {
      if (!r.ok) return;
      feedbackByItem[itemId] = kind;
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-kind") === kind));
      });
    }, function () { /* offline: the button stays as it was */ });
  }

  // --- item cards -------------------------------------------------------------------------

  function cards(items) {
    var list = el("ul", "rc-cards");
    items.forEach(function (item) {
      if (!item || typeof item.id !== "string") return;
      var li = el("li", "rc-card");
      li.setAttribute("data-item-id", item.id);  // an attribute value, never markup
      var image = safeUrl(item.image);
      if (image) {
        var img = el("img");
        img.alt = "";
        img.loading = "lazy";
        img.referrerPolicy = "no-referrer";
        img.src = image;
        li.appendChild(img);
      }
      var body = el("div", "rc-card-body");
      var titleNode = el("div", "rc-title");
      var link = safeUrl(item.url);
      if (link) {
        var a = el("a", null, item.title);
        a.href = link;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow";
        titleNode.appendChild(a);
      } else {
        titleNode.textContent = String(item.title || item.id);
      }
      body.appendChild(titleNode);
      var price = money(item.price, item.currency);
      if (price) body.appendChild(el("div", "rc-price", price));
      if (item.explanation) body.appendChild(el("div", "rc-why", item.explanation));
      var actions = el("div", "rc-actions");
      var buttons = [["like", "Like"], ["dislike", "Not for me"]].map(function (pair) {
        var b = el("button", "rc-" + pair[0], pair[1]);
        b.type = "button";
        b.setAttribute("data-kind", pair[0]);
        b.setAttribute("aria-pressed", String(feedbackByItem[item.id] === pair[0]));
        return b;
      });
      buttons.forEach(function (b) {
        b.addEventListener("click", function () {
          sendFeedback(item.id, b.getAttribute("data-kind"), buttons);
        });
        actions.appendChild(b);
      });
      body.appendChild(actions);
      li.appendChild(body);
      list.appendChild(li);
    });
    log.appendChild(list);
    scrollDown();
  }

  function quickReplies(options) {  // the answers a question offers, one click to send
    var row = el("div", "rc-options");
    options.slice(0, 8).forEach(function (option) {
      if (typeof option !== "string" || !option) return;
      var b = el("button", "rc-option", option);
      b.type = "button";
      b.addEventListener("click", function () {
        if (busy) return;
        row.remove();
        send(option);
      });
      row.appendChild(b);
    });
    log.appendChild(row);
    scrollDown();
  }

  // --- a turn, streamed -------------------------------------------------------------------

  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function frame(text) {
      var type = "message", data = [];
      text.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) type = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (!data.length) return;  // a keep-alive comment
      var payload;
      try { payload = JSON.parse(data.join("\n")); } catch (e) { return; }
      onEvent(type, payload);
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { if (buffer.trim()) frame(buffer); return; }
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split(/\r?\n\r?\n/);
        buffer = parts.pop();
        parts.forEach(frame);
        return pump();
      });
    }
    return pump();
  }

  function postMessage(text) {
    return call("POST", "/v1/sessions/" + encodeURIComponent(sessionId) + "/messages",
                { message: text, stream: true }, "text/event-stream");
  }

  function send(text) {
    if (busy || !text.trim()) return;
    busy = true;
    sendButton.disabled = true;
    bubble("user", text);
    var reply = bubble("bot", "");
    reply.classList.add("rc-pending");
    var shown = "";
    var options = [];
    var started = sessionId ? Promise.resolve(sessionId) : newSession();
    started.then(function () {
      return postMessage(text);
    }).then(function (response) {
      if (response.status === 404) {  // the stored session is gone: start afresh
        remember(null);
        return newSession().then(function () { return postMessage(text); });
      }
      return response;
    }).then(function (response) {
      if (!response.ok) {
        return problem(response).then(function (m) {
          reply.textContent = m;
          reply.classList.add("rc-error");
        });
      }
      return readEvents(response, function (type, event) {
        if (type === "text") {
          shown += String(event.text || "");
          reply.textContent = shown;
        } else if (type === "items") {
          cards(event.items || []);
          log.appendChild(reply);  // the reply follows the cards it talks about
        } else if (type === "replace") {  // the checked copy replaces what was streamed
          shown = String(event.text || "");
          reply.textContent = shown;
        } else if (type === "question") {  // its words stream as text; offer its options
          options = event.options || [];
        } else if (type === "done") {
          if (typeof event.reply === "string" && event.reply) reply.textContent = event.reply;
          if (options.length) quickReplies(options);
        } else if (type === "error") {
          reply.textContent = String(event.message || "Something went wrong.");
          reply.classList.add("rc-error");
        }  // other event kinds carry nothing to show here
        scrollDown();
      });
    }).catch(function (e) {
      reply.textContent = (e && e.message) || "The chat is unreachable right now.";
      reply.classList.add("rc-error");
    }).then(function () {
      reply.classList.remove("rc-pending");
      busy = false;
      sendButton.disabled = false;
      input.focus();
    });
  }

  // --- history: a reload continues the conversation -----------------------------------

  function restore() {
    if (restored) return Promise.resolve();
    restored = true;
    if (!sessionId) {
      bubble("bot", greeting);
      return Promise.resolve();
    }
    return call("GET", "/v1/sessions/" + encodeURIComponent(sessionId)).then(function (r) {
      if (r.status === 404) { remember(null); bubble("bot", greeting); return; }
      if (!r.ok) { bubble("bot", greeting); return; }
      return r.json().then(function (history) {
        (history.feedback || []).forEach(function (f) { feedbackByItem[f.item_id] = f.kind; });
        if (!history.messages || !history.messages.length) bubble("bot", greeting);
        (history.messages || []).forEach(function (m) {
          if (m.role === "assistant" && m.items && m.items.length) cards(m.items);
          bubble(m.role === "user" ? "user" : "bot", m.content);
        });
      });
    }, function () { bubble("bot", greeting); });
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    try { localStorage.setItem(openKey, open ? "1" : ""); } catch (e) { /* ignore */ }
    if (open) restore().then(function () { input.focus(); scrollDown(); });
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  restart.addEventListener("click", function () {
    if (busy) return;
    remember(null);
    feedbackByItem = {};
    while (log.firstChild) log.removeChild(log.firstChild);
    bubble("bot", greeting);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  function mount() {
    document.body.appendChild(host);
    var wasOpen = false;
    try { wasOpen = localStorage.getItem(openKey) === "1"; } catch (e) { /* ignore */ }
    if (wasOpen || script.getAttribute("data-open") === "true") setOpen(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
