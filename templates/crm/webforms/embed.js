/* A lead form for this site. Paste <div id="lead-form-ID"></div> and this script where it should appear.
 * It builds the form with createElement and textContent only, remembers the ad click that brought the
 * visitor (utm_*, gclid, fbclid, landing page, referrer) for the browser tab, and posts JSON to its server. */
(function (config) {
  "use strict";
  var CLICK_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid"];
  var STORE_KEY = "lead-form-visit";
  var script = document.currentScript;
  var visit = rememberVisit();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function readStored() {
    try {
      return JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
    } catch (e) {
      return null;
    }
  }

  // The visit that counts is the one an ad or a tagged link opened; later pages of the tab keep it.
  function rememberVisit() {
    var current = { landing_page: window.location.href, referrer: document.referrer };
    var params = new URLSearchParams(window.location.search);
    var tagged = false;
    CLICK_KEYS.forEach(function (key) {
      var value = params.get(key);
      if (value) {
        current[key] = value;
        tagged = true;
      }
    });
    var stored = readStored();
    if (stored && typeof stored === "object" && !tagged) return stored;
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(current));
    } catch (e) {
      /* storage blocked: this page's visit is still sent */
    }
    return current;
  }

  function addStylesheet(done) {
    var existing = document.getElementById("lead-form-stylesheet");
    if (existing) return done();
    var link = el("link");
    link.id = "lead-form-stylesheet";
    link.rel = "stylesheet";
    link.href = config.stylesheet;
    link.addEventListener("load", done);
    link.addEventListener("error", done);
    (document.head || document.documentElement).appendChild(link);
    window.setTimeout(done, 3000);
  }

  function buildField(field, prefix) {
    var id = prefix + field.name;
    var box = el("div", field.css);
    var label = el("label", "lf-label", field.label);
    label.htmlFor = id;
    if (field.optional) label.appendChild(el("span", "lf-optional", " (optional)"));
    var input;
    if (field.type === "textarea") {
      input = el("textarea");
    } else if (field.type === "select") {
      input = el("select");
      field.options.forEach(function (option) {
        var node = el("option", null, option[1]);
        node.value = option[0];
        input.appendChild(node);
      });
    } else {
      input = el("input");
      input.type = field.type;
    }
    input.id = id;
    input.name = field.name;
    input.className = "lf-input";
    input.required = field.required;
    Object.keys(field.attrs).forEach(function (name) {
      input.setAttribute(name, field.attrs[name]);
    });
    var errors = el("ul", "lf-errors");
    errors.id = id + "-errors";
    errors.hidden = true;
    input.setAttribute("aria-describedby", errors.id);
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(errors);
    return box;
  }

  function buildHoneypot(prefix) {
    var box = el("div", "lf-hp");
    box.setAttribute("aria-hidden", "true");
    var label = el("label", null, "Leave this field empty");
    label.htmlFor = prefix + config.honeypot;
    var input = el("input");
    input.type = "text";
    input.id = prefix + config.honeypot;
    input.name = config.honeypot;
    input.tabIndex = -1;
    input.autocomplete = "off";
    box.appendChild(label);
    box.appendChild(input);
    return box;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".lf-has-error"), function (box) {
      box.classList.remove("lf-has-error");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".lf-errors"), function (list) {
      list.textContent = "";
      list.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  // Field errors go under their field; errors about nothing on the form go to the status line.
  function showErrors(form, status, errors) {
    var first = null;
    var general = [];
    Object.keys(errors).forEach(function (name) {
      var input = form.elements.namedItem(name);
      var messages = [].concat(errors[name]);
      if (!input || !input.parentNode || name === config.honeypot) {
        general = general.concat(messages);
        return;
      }
      var list = input.parentNode.querySelector(".lf-errors");
      messages.forEach(function (message) {
        list.appendChild(el("li", null, String(message)));
      });
      list.hidden = false;
      input.parentNode.classList.add("lf-has-error");
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    });
    if (general.length) showStatus(status, general.join(" "));
    if (first) first.focus();
  }

  function showStatus(status, message) {
    status.textContent = message;
    status.hidden = !message;
  }

  function showThanks(box, message) {
    box.textContent = "";
    var thanks = el("div", "lf-thanks");
    thanks.setAttribute("role", "status");
    thanks.tabIndex = -1;
    thanks.appendChild(el("div", "lf-check", "\u2713")).setAttribute("aria-hidden", "true");
    thanks.appendChild(el("p", null, message || config.thankYou));
    box.appendChild(thanks);
    thanks.focus();
  }

  function failureMessage() {
    return "Sorry, the request could not be sent. Please try again" +
      (config.phone ? " or call us at " + config.phone + "." : ".");
  }

  function submit(form, box, status, button) {
    var payload = {};
    Object.keys(visit).forEach(function (key) {
      payload[key] = visit[key];
    });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name) payload[input.name] = input.value;
    });
    clearErrors(form);
    showStatus(status, "");
    button.disabled = true;
    button.textContent = "Sending\u2026";
    window.fetch(config.action, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (body) {
        if (response.ok) return showThanks(box, body.message);
        if (body.errors) showErrors(form, status, body.errors);
        if (!body.errors || response.status !== 400) showStatus(status, body.detail || failureMessage());
      });
    }).catch(function () {
      showStatus(status, failureMessage());
    }).then(function () {
      button.disabled = false;
      button.textContent = config.submitLabel;
    });
  }

  function build(root) {
    var prefix = "lf-" + config.id.slice(0, 8) + "-";
    var box = el("div", "lf lf-embed");
    box.hidden = true;
    var form = el("form", "lf-form");
    form.noValidate = true;
    form.setAttribute("action", config.action);
    form.setAttribute("method", "post");
    if (config.headline) form.appendChild(el("h2", "lf-headline", config.headline));
    var fields = el("div", "lf-fields");
    config.fields.forEach(function (field) {
      fields.appendChild(buildField(field, prefix));
    });
    fields.appendChild(buildHoneypot(prefix));
    form.appendChild(fields);
    var status = el("p", "lf-status");
    status.setAttribute("role", "alert");
    status.hidden = true;
    form.appendChild(status);
    var button = el("button", "lf-submit", config.submitLabel);
    button.type = "submit";
    form.appendChild(button);
    if (config.consentText) form.appendChild(el("p", "lf-consent", config.consentText));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!button.disabled) submit(form, box, status, button);
    });
    box.appendChild(form);
    root.textContent = "";
    root.appendChild(box);
    addStylesheet(function () {
      box.hidden = false;
    });
  }

  function findRoot() {
    var root = document.getElementById("lead-form-" + config.id);
    if (!root && script && script.parentNode) {
      root = el("div");
      root.id = "lead-form-" + config.id;
      script.parentNode.insertBefore(root, script);
    }
    return root;
  }

  function start() {
    var root = findRoot();
    if (!root || root.getAttribute("data-lead-form") === "ready") return;
    root.setAttribute("data-lead-form", "ready");
    build(root);
  }

  if (document.readyState === "loading" && !document.getElementById("lead-form-" + config.id)) {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})({{ config }});
