/*
 * recochat chat widget. Embed with one tag:
 *
 *   <script src="https://API/widget.js" data-api-url="https://API" data-key="rc_..."></script>
 *
 * Optional: data-title, data-greeting, data-open="true", and the look:
 *   data-color="#c2185b"      the accent colour (any CSS colour)
 *   data-theme="dark"         light (default), dark, or auto (follows the visitor's system)
 *   data-position="left"      the corner: right (default) or left
 * Escape closes the panel. When the visitor asks for a person ("can I talk to a
 * human?") or the assistant cannot help, it offers what the shop configured on the
 * server (RECOCHAT_HANDOFF_URL / _EMAIL / _WEBHOOK): a contact page, an e-mail
 * address, or sending the conversation to the shop's webhook.
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
  var color = script.getAttribute("data-color") || "";
  var theme = script.getAttribute("data-theme") || "light";
  var position = script.getAttribute("data-position") === "left" ? "left" : "right";
  var sessionKey = "recochat:" + apiUrl + ":session";
  var openKey = "recochat:" + apiUrl + ":open";

  var CSS = [
    ":host { all: initial; --rc-accent: #2456d3; --rc-on-accent: #fff; --rc-bg: #fff; --rc-fg: #1f2328;",
    "  --rc-bot: #f0f2f5; --rc-border: #d0d7de; --rc-muted: #59636e; --rc-price: #1a7f37;",
    "  --rc-error-bg: #fde8e8; --rc-error-fg: #8a1c1c; --rc-pressed: #ddf4ff; --rc-card: #fff; }",
    ":host(.rc-dark) { --rc-bg: #1d2127; --rc-fg: #e6e8eb; --rc-bot: #2c323b; --rc-border: #444c56;",
    "  --rc-muted: #9aa4b1; --rc-price: #56d364; --rc-error-bg: #4b2323; --rc-error-fg: #ffc1c1;",
    "  --rc-pressed: #253a5e; --rc-card: #23282f; }",
    "@media (prefers-color-scheme: dark) { :host(.rc-auto) { --rc-bg: #1d2127; --rc-fg: #e6e8eb;",
    "  --rc-bot: #2c323b; --rc-border: #444c56; --rc-muted: #9aa4b1; --rc-price: #56d364;",
    "  --rc-error-bg: #4b2323; --rc-error-fg: #ffc1c1; --rc-pressed: #253a5e; --rc-card: #23282f; } }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }",
    ".rc-launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px;",
    "  border-radius: 50%; border: 0; background: var(--rc-accent); color: var(--rc-on-accent);",
    "  display: grid; place-items: center; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25);",
    "  z-index: 2147483000; }",
    ".rc-panel { position: fixed; right: 20px; bottom: 88px; width: 370px; max-width: calc(100vw - 40px);",
    "  height: 560px; max-height: calc(100vh - 110px); background: var(--rc-bg); color: var(--rc-fg);",
    "  border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.25); display: flex;",
    "  flex-direction: column; overflow: hidden; z-index: 2147483000; font-size: 14px; }",
    ":host(.rc-left) .rc-launcher, :host(.rc-left) .rc-panel { left: 20px; right: auto; }",
    ".rc-panel[hidden] { display: none; }",
    ".rc-head { display: flex; align-items: center; gap: 6px; padding: 10px 12px;",
    "  background: var(--rc-accent); color: var(--rc-on-accent); }",
    ".rc-head-title { flex: 1; font-weight: 600; }",
    ".rc-head button { background: transparent; border: 0; color: inherit; font-size: 16px; cursor: pointer; }",
    ".rc-log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }",
    ".rc-msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap;",
    "  overflow-wrap: anywhere; line-height: 1.4; }",
    ".rc-user { align-self: flex-end; background: var(--rc-accent); color: var(--rc-on-accent); }",
    ".rc-bot { align-self: flex-start; background: var(--rc-bot); }",
    ".rc-bot.rc-pending:empty::after { content: 'Looking through the catalog\u2026'; color: var(--rc-muted); }",
    ".rc-bot.rc-error { background: var(--rc-error-bg); color: var(--rc-error-fg); }",
    ".rc-retry { align-self: flex-start; border: 1px solid var(--rc-error-fg); color: var(--rc-error-fg);",
    "  background: transparent; border-radius: 6px; padding: 2px 10px; cursor: pointer; font-size: 13px; }",
    ".rc-cards { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }",
    ".rc-card { display: flex; gap: 10px; border: 1px solid var(--rc-border); border-radius: 10px;",
    "  padding: 8px; background: var(--rc-card); }",
    ".rc-card img { width: 56px; height: 56px; object-fit: cover; border-radius: 6px; flex: none; }",
    ".rc-card-body { flex: 1; min-width: 0; }",
    ".rc-title { font-weight: 600; overflow-wrap: anywhere; }",
    ".rc-title a { color: inherit; }",
    ".rc-brand { opacity: 0.75; font-size: 12px; }",
    ".rc-price { color: var(--rc-price); font-weight: 600; }",
    ".rc-why, .rc-fb-note { color: var(--rc-muted); font-size: 12.5px; overflow-wrap: anywhere; }",
    ".rc-fb-note.rc-error { color: var(--rc-error-fg); }",
    ".rc-fb-note .rc-retry { margin-left: 6px; padding: 0 8px; font-size: 12px; }",
    ".rc-actions { display: flex; gap: 6px; margin-top: 4px; }",
    ".rc-actions button { border: 1px solid var(--rc-border); background: transparent; color: inherit;",
    "  border-radius: 6px; cursor: pointer; padding: 2px 8px; font-size: 13px; }",
    ".rc-actions button[aria-pressed='true'] { background: var(--rc-pressed); border-color: var(--rc-accent); }",
    ".rc-options { display: flex; flex-wrap: wrap; gap: 6px; }",
    ".rc-option { border: 1px solid var(--rc-accent); color: var(--rc-accent); background: transparent;",
    "  border-radius: 14px; padding: 3px 10px; cursor: pointer; font-size: 13px; }",
    ".rc-handoff { align-self: stretch; border: 1px dashed var(--rc-accent); border-radius: 10px; padding: 8px 10px;",
    "  display: flex; flex-direction: column; gap: 6px; }",
    ".rc-handoff-ways { display: flex; flex-wrap: wrap; gap: 6px; }",
    ".rc-handoff-ways a, .rc-handoff-ways button { border: 0; border-radius: 8px; padding: 4px 10px;",
    "  background: var(--rc-accent); color: var(--rc-on-accent); text-decoration: none; cursor: pointer;",
    "  font-size: 13px; }",
    ".rc-form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid var(--rc-border); }",
    ".rc-input { flex: 1; resize: none; border: 1px solid var(--rc-border); border-radius: 8px; padding: 8px;",
    "  font-size: 14px; height: 40px; background: var(--rc-bg); color: var(--rc-fg); }",
    ".rc-send { border: 0; border-radius: 8px; background: var(--rc-accent); color: var(--rc-on-accent);",
    "  padding: 0 14px; cursor: pointer; }",
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
  host.className = "rc-" + position + (theme === "dark" || theme === "auto" ? " rc-" + theme : "");
  if (color && window.CSS && window.CSS.supports && window.CSS.supports("color", color)) {
    host.style.setProperty("--rc-accent", color);
  }
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
  var handoffOptions = null;  // a promise of GET /v1/handoff, fetched once

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

  function retryButton(label, onRetry) {  // a failed call says so, and offers to try again
    var b = el("button", "rc-retry", label || "Retry");
    b.type = "button";
    b.addEventListener("click", function () { b.remove(); onRetry(); });
    return b;
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

  function sendFeedback(itemId, kind, buttons, note) {
    if (!sessionId) return;
    note.className = "rc-fb-note";
    note.textContent = "";
    function failed(message) {
      note.className = "rc-fb-note rc-error";
      note.textContent = message;
      note.appendChild(retryButton("Retry", function () {
        sendFeedback(itemId, kind, buttons, note);
      }));
    }
    call("POST", "/v1/sessions/" + encodeURIComponent(sessionId) + "/feedback",
         { item_id: itemId, kind: kind }).then(function (r) {
      if (!r.ok) {
        return problem(r).then(function (m) { failed("Not saved: " + m); });
      }
      feedbackByItem[itemId] = kind;
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-kind") === kind));
      });
      return r.json().then(function (d) { note.textContent = String((d && d.message) || ""); },
                           function () { /* saved; nothing to add */ });
    }, function () { failed("Not saved: the chat is unreachable right now."); });
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
      var maker = [item.brand, item.detail].filter(function (v) {
        return typeof v === "string" && v;
      }).join(" · ");
      if (maker) body.appendChild(el("div", "rc-brand", maker));
      var price = money(item.price, item.currency);
      if (price) body.appendChild(el("div", "rc-price", price));
      if (item.explanation) body.appendChild(el("div", "rc-why", item.explanation));
      var actions = el("div", "rc-actions");
      var note = el("div", "rc-fb-note");
      note.setAttribute("role", "status");
      var buttons = [["like", "Like"], ["dislike", "Not for me"]].map(function (pair) {
        var b = el("button", "rc-" + pair[0], pair[1]);
        b.type = "button";
        b.setAttribute("data-kind", pair[0]);
        b.setAttribute("aria-pressed", String(feedbackByItem[item.id] === pair[0]));
        return b;
      });
      buttons.forEach(function (b) {
        b.addEventListener("click", function () {
          sendFeedback(item.id, b.getAttribute("data-kind"), buttons, note);
        });
        actions.appendChild(b);
      });
      body.appendChild(actions);
      body.appendChild(note);
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

  // --- a person to talk to ------------------------------------------------------------

  // A class of phrasings, not one string: "can I talk to a person?", "agent", "human
  // please", "I want a real person", "customer service", "speak to someone".
  var WANTS_PERSON = [
    /^\W*(an? |the )?(human|person|agent|operator|representative|rep|real person|live agent)\b(\s+please)?\W*$/i,
    /\b(talk|speak|chat|connect|transfer|put)\w*\b.{0,30}\b(human|person|people|agent|operator|representative|someone|somebody|staff|employee|support)\b/i,
    /\b(real|live|actual)\s+(human|person|agent|people)\b/i,
    /\bcustomer\s+(service|support|care)\b/i,
    /\b(contact|reach|call|email|e-mail)\s+(you|the (shop|store|team)|support|someone|a person)\b/i
  ];

  function wantsPerson(text) {
    return WANTS_PERSON.some(function (pattern) { return pattern.test(text); });
  }

  function loadHandoff() {
    if (!handoffOptions) {
      handoffOptions = call("GET", "/v1/handoff").then(function (r) {
        return r.ok ? r.json() : { available: false };
      }, function () { handoffOptions = null; return { available: false }; });
    }
    return handoffOptions;
  }

  function askPerson(reason, box, status) {
    status.textContent = "Sending our conversation to the shop\u2026";
    var started = sessionId ? Promise.resolve(sessionId) : newSession();
    started.then(function () {
      return call("POST", "/v1/sessions/" + encodeURIComponent(sessionId) + "/handoff",
                  { reason: reason });
    }).then(function (r) {
      if (!r.ok) return problem(r).then(function (m) { throw new Error(m); });
      return r.json().then(function (d) { status.textContent = String(d.message || "Sent."); });
    }).catch(function (e) {
      status.textContent = (e && e.message) || "The chat is unreachable right now.";
      status.appendChild(retryButton("Retry", function () { askPerson(reason, box, status); }));
    });
  }

  function offerPerson(reason, lead) {  // resolves to whether anything was offered
    return loadHandoff().then(function (o) {
      if (!o || !o.available) return false;
      var box = el("div", "rc-handoff");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Talk to a person");
      box.appendChild(el("div", null, lead));
      var ways = el("div", "rc-handoff-ways");
      var url = safeUrl(o.url);
      if (url) {
        var page = el("a", "rc-handoff-link", "Contact page");
        page.href = url;
        page.target = "_blank";
        page.rel = "noopener noreferrer";
        ways.appendChild(page);
      }
      if (typeof o.email === "string" && /^[^\s@<>"(),;:]+@[^\s@<>"(),;:]+$/.test(o.email)) {
        var mail = el("a", "rc-handoff-email", "E-mail " + o.email);
        mail.href = "mailto:" + o.email;
        ways.appendChild(mail);
      }
      var status = el("div", "rc-handoff-status");
      status.setAttribute("role", "status");
      if (o.webhook) {
        var ask = el("button", "rc-handoff-ask", "Ask a person to reply");
        ask.type = "button";
        ask.addEventListener("click", function () { ask.disabled = true; askPerson(reason, box, status); });
        ways.appendChild(ask);
      }
      box.appendChild(ways);
      box.appendChild(status);
      log.appendChild(box);
      scrollDown();
      return true;
    });
  }

  // --- a turn, streamed -----------------------------------------------------------------

  var CANNOT_HELP = { no_match: true, unclear: true, refuse: true };

  function failed(reply, message, text, user) {
    reply.textContent = message;
    reply.classList.add("rc-error");
    if (text === null) return;  // bad input: trying again would not help
    var again = retryButton("Retry", function () {
      reply.remove();
      if (user) user.remove();
      send(text);
    });
    log.appendChild(again);
    scrollDown();
  }

  function send(text) {
    if (busy || !text.trim()) return;
    if (wantsPerson(text)) {
      var asked = bubble("user", text);
      busy = true;
      offerPerson("asked", "You can reach a person from the shop:").then(function (offered) {
        busy = false;
        if (!offered) { asked.remove(); turn(text); }
      });
      return;
    }
    turn(text);
  }

  function turn(text) {
    busy = true;
    sendButton.disabled = true;
    var user = bubble("user", text);
    var reply = bubble("bot", "");
    reply.classList.add("rc-pending");
    var shown = "";
    var options = [];
    var act = null;
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
          var hopeless = response.status === 400 || response.status === 401 || response.status === 422;
          failed(reply, m, hopeless ? null : text, user);
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
          act = event.debug && event.debug.act;
        } else if (type === "error") {
          var ours = event.code === "internal_error" || event.code === "turn_failed";
          failed(reply, String(event.message || "Something went wrong."), ours ? text : null, user);
          act = ours ? "error" : null;
        }  // other event kinds carry nothing to show here
        scrollDown();
      });
    }).catch(function (e) {
      failed(reply, (e && e.message) || "The chat is unreachable right now.", text, user);
    }).then(function () {
      reply.classList.remove("rc-pending");
      busy = false;
      sendButton.disabled = false;
      input.focus();
      if (act && (CANNOT_HELP[act] || act === "error")) {
        offerPerson(act === "error" ? "error" : "no_help", "Would you rather ask a person?");
      }
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
  document.addEventListener("keydown", function (e) {  // from the page or inside the panel
    if (e.key === "Escape" && !panel.hidden) {
      setOpen(false);
      launcher.focus();
    }
  });
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
