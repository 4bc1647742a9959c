/* A web chat for this site: paste this script once on every page. It adds a "Chat with us" button; the
 * visitor gives a name, a mobile number and a message, then the office's replies show here (polled every few
 * seconds while the panel is open) and by text when the visitor has left. Built with createElement and
 * textContent only; the chat's token is kept in localStorage so the chat goes on across pages. */
(function (config) {
  "use strict";
  var STORE_KEY = "webchat-" + config.id;
  var state = { token: null, after: 0, shown: {}, timer: null, open: false };
  var ui = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function loadToken() {
    try {
      return window.localStorage.getItem(STORE_KEY);
    } catch (e) {
      return null;
    }
  }

  function saveToken(token) {
    state.token = token;
    try {
      if (token) window.localStorage.setItem(STORE_KEY, token);
      else window.localStorage.removeItem(STORE_KEY);
    } catch (e) {
      /* storage blocked: the chat lasts for this page */
    }
  }

  function messagesUrl() {
    return config.messages.replace("TOKEN", encodeURIComponent(state.token));
  }

  function request(method, url, payload) {
    var options = { method: method, mode: "cors", credentials: "omit", headers: { Accept: "application/json" } };
    if (payload) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return window.fetch(url, options).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (body) {
        return { status: response.status, ok: response.ok, body: body };
      });
    });
  }

  function failureMessage() {
    return "Sorry, the message could not be sent. Please try again" +
      (config.phone ? " or call us at " + config.phone + "." : ".");
  }

  function addStylesheet(done) {
    if (document.getElementById("webchat-stylesheet")) return done();
    var link = el("link");
    link.id = "webchat-stylesheet";
    link.rel = "stylesheet";
    link.href = config.stylesheet;
    link.addEventListener("load", done);
    link.addEventListener("error", done);
    (document.head || document.documentElement).appendChild(link);
    window.setTimeout(done, 3000);
  }

  function showStatus(message) {
    ui.status.textContent = message || "";
    ui.status.hidden = !message;
  }

  function field(name, label, type, attrs) {
    var id = "wc-" + config.id.slice(0, 8) + "-" + name;
    var box = el("div", "wc-field wc-f-" + name);
    var labelNode = el("label", "wc-label", label);
    labelNode.htmlFor = id;
    var input = el(type === "textarea" ? "textarea" : "input", "wc-input");
    if (type !== "textarea") input.type = type;
    input.id = id;
    input.name = name;
    input.required = true;
    Object.keys(attrs || {}).forEach(function (key) {
      input.setAttribute(key, attrs[key]);
    });
    var error = el("p", "wc-error");
    error.id = id + "-error";
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    box.appendChild(labelNode);
    box.appendChild(input);
    box.appendChild(error);
    return box;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".wc-error"), function (node) {
      node.textContent = "";
      node.hidden = true;
      node.parentNode.classList.remove("wc-has-error");
    });
  }

  function showErrors(form, errors) {
    var first = null;
    var general = [];
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.elements.namedItem(name);
      var text = [].concat(errors[name]).join(" ");
      if (!input || name === config.honeypot) {
        general.push(text);
        return;
      }
      var error = input.parentNode.querySelector(".wc-error");
      error.textContent = text;
      error.hidden = false;
      input.parentNode.classList.add("wc-has-error");
      first = first || input;
    });
    if (general.length) showStatus(general.join(" "));
    if (first) first.focus();
  }

  function buildStartForm() {
    var form = el("form", "wc-start");
    form.noValidate = true;
    form.appendChild(el("p", "wc-intro", "Hi! Leave your name and mobile number and ask us anything. We usually answer in minutes."));
    form.appendChild(field("name", "Your name", "text", { autocomplete: "name", maxlength: "200" }));
    form.appendChild(field("phone", "Mobile phone", "tel", { autocomplete: "tel", inputmode: "tel" }));
    form.appendChild(field("message", "Your message", "textarea", { rows: "3", maxlength: "1600" }));
    var hp = el("div", "wc-hp");
    hp.setAttribute("aria-hidden", "true");
    var hpInput = el("input");
    hpInput.type = "text";
    hpInput.name = config.honeypot;
    hpInput.tabIndex = -1;
    hpInput.autocomplete = "off";
    hp.appendChild(hpInput);
    form.appendChild(hp);
    var button = el("button", "wc-button", "Start chat");
    button.type = "submit";
    form.appendChild(button);
    if (config.consentText) form.appendChild(el("p", "wc-consent", config.consentText));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) return;
      var payload = { landing_page: window.location.href };
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.name) payload[input.name] = input.value;
      });
      clearErrors(form);
      showStatus("");
      button.disabled = true;
      request("POST", config.start, payload).then(function (answer) {
        if (answer.ok && answer.body.token) {
          saveToken(answer.body.token);
          form.reset();
          showChat();
          return poll();
        }
        if (answer.status === 400 && answer.body.errors) return showErrors(form, answer.body.errors);
        showStatus(answer.body.detail || failureMessage());
      }).catch(function () {
        showStatus(failureMessage());
      }).then(function () {
        button.disabled = false;
      });
    });
    return form;
  }

  function buildChatForm() {
    var form = el("form", "wc-compose");
    form.noValidate = true;
    var label = el("label", "wc-sr", "Write a message");
    var input = el("textarea", "wc-input");
    input.id = "wc-" + config.id.slice(0, 8) + "-next";
    input.name = "message";
    input.rows = 2;
    input.maxLength = 1600;
    input.placeholder = "Write a message\u2026";
    label.htmlFor = input.id;
    var button = el("button", "wc-button wc-send", "Send");
    button.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(button);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : button.click();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || button.disabled) return;
      showStatus("");
      button.disabled = true;
      request("POST", messagesUrl(), { message: text }).then(function (answer) {
        if (answer.status === 403) return expired();
        if (!answer.ok) return showStatus(answer.body.detail || failureMessage());
        input.value = "";
        addLine(answer.body.message);
      }).catch(function () {
        showStatus(failureMessage());
      }).then(function () {
        button.disabled = false;
        input.focus();
      });
    });
    return form;
  }

  function addLine(line) {
    if (!line || state.shown[line.id]) return;
    state.shown[line.id] = true;
    state.after = Math.max(state.after, line.id);
    var mine = line.direction === "in";
    var item = el("li", "wc-line " + (mine ? "wc-mine" : "wc-theirs"));
    item.setAttribute("data-id", String(line.id));
    item.appendChild(el("span", "wc-sr", mine ? "You: " : (config.business || "Office") + ": "));
    item.appendChild(el("div", "wc-bubble", line.body));
    var when = new Date(line.time);
    if (!isNaN(when)) {
      item.appendChild(el("div", "wc-time", when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })));
    }
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function poll() {
    if (!state.token) return Promise.resolve();
    return request("GET", messagesUrl() + "?after=" + state.after).then(function (answer) {
      if (answer.status === 403) return expired();
      (answer.body.messages || []).forEach(addLine);
    }).catch(function () {
      /* offline for a moment: the next poll catches up */
    });
  }

  function startPolling() {
    stopPolling();
    if (!state.token) return;
    state.timer = window.setInterval(poll, config.pollMs || 3000);
  }

  function stopPolling() {
    if (state.timer) window.clearInterval(state.timer);
    state.timer = null;
  }

  function expired() {
    saveToken(null);
    state.after = 0;
    state.shown = {};
    ui.log.textContent = "";
    stopPolling();
    showStart();
    showStatus("This chat has ended. Start a new one and we will pick it up from there.");
  }

  function showStart() {
    ui.start.hidden = false;
    ui.chat.hidden = true;
  }

  function showChat() {
    ui.start.hidden = true;
    ui.chat.hidden = false;
    if (state.open) startPolling();
  }

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle("wc-is-open", open);
    if (open && state.token) {
      poll();
      startPolling();
      ui.chat.querySelector("textarea").focus();
    } else if (open) {
      ui.start.querySelector("input").focus();
    } else {
      stopPolling();
      ui.toggle.focus();
    }
  }

  function build() {
    var root = el("div", "wc");
    root.id = "webchat-" + config.id;
    root.hidden = true;
    var panelId = "wc-panel-" + config.id.slice(0, 8);
    var toggle = el("button", "wc-toggle", "Chat with us");
    toggle.type = "button";
    toggle.setAttribute("aria-controls", panelId);
    toggle.setAttribute("aria-expanded", "false");
    var panel = el("section", "wc-panel");
    panel.id = panelId;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Chat with " + (config.business || "us"));
    panel.hidden = true;
    var head = el("header", "wc-head");
    head.appendChild(el("h2", "wc-title", config.business ? "Chat with " + config.business : "Chat with us"));
    var close = el("button", "wc-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close the chat");
    head.appendChild(close);
    panel.appendChild(head);
    var start = buildStartForm();
    var chat = el("div", "wc-chat");
    var log = el("ol", "wc-log");
    log.setAttribute("aria-live", "polite");
    chat.appendChild(log);
    chat.appendChild(buildChatForm());
    var status = el("p", "wc-status");
    status.setAttribute("role", "alert");
    status.hidden = true;
    panel.appendChild(start);
    panel.appendChild(chat);
    panel.appendChild(status);
    root.appendChild(panel);
    root.appendChild(toggle);
    ui = { root: root, toggle: toggle, panel: panel, start: start, chat: chat, log: log, status: status };
    toggle.addEventListener("click", function () {
      setOpen(!state.open);
    });
    close.addEventListener("click", function () {
      setOpen(false);
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") setOpen(false);
    });
    state.token = loadToken();
    if (state.token) showChat();
    else showStart();
    document.body.appendChild(root);
    addStylesheet(function () {
      root.hidden = false;
    });
  }

  function begin() {
    if (document.getElementById("webchat-" + config.id)) return;
    build();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", begin);
  else begin();
})({{ config }});
