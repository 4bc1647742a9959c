// The pricebook typeahead: type a code or a name, pick an item with the keyboard (or a tap), and the
// line around it is filled from the item. Used by the pricebook's price check; made for the estimate and
// invoice line editors. Load this file once per page (with the CSP nonce); no inline handlers.
//
// MARKUP CONTRACT (templates/fsm/pricebook/_typeahead.html writes the first part)
//
//   <div data-pb-line>                                   the line: what a pick fills (optional)
//     <div data-pricebook-typeahead                      the widget's root
//          data-search-url="/pricebook/search/"          GET ?q=...&limit=...&kind=... -> {"results": [item]}
//          data-kind="material"                          optional: only this kind
//          data-limit="8"                                optional: at most this many (default 10)
//          data-pb-clear-on-pick>                        optional: empty the box after a pick (add-a-line
//                                                        boxes); else it keeps the item's code
//       <input data-pb-input role="combobox" aria-controls="LIST-ID" aria-expanded="false" ...>
//       <ul id="LIST-ID" data-pb-results role="listbox" hidden></ul>
//     </div>
//     <input name="lines-0-description" data-pb-fill="description">   form fields: their value is set
//     <input type="checkbox" data-pb-fill="taxable">                  checkboxes: checked = the value
//     <span data-pb-fill="price" data-pb-format="money"></span>       other elements: their text;
//                                                                      data-pb-format="money": $1,895.00
//     <dd data-pb-fill="member_price" data-pb-empty="—"></dd>         data-pb-empty: text for a null
//     <dd data-pb-fill="taxable" data-pb-yes="Taxable" data-pb-no="No"></dd>  booleans as words
//     <div data-pb-filled hidden>...</div>                            shown after a pick
//     <p data-pb-placeholder>...</p>                                  hidden after a pick
//   </div>
//
// An item (the search endpoint's JSON) has: id, code, name, description, category, kind, unit,
// price, member_price, cost (null for roles that do not see costs), taxable. Money is a string such as
// "1895.00"; a form field receives it as is. data-pb-fill="id" fills e.g. a hidden pricebook_item input.
//
// Filled form fields get "input" and "change" events, so a line's own script recomputes its amount.
// The root then dispatches "pricebook:pick" (bubbles; event.detail.item is the item) for anything else.
//
// KEYBOARD: typing searches (150 ms after the last key); Down/Up move through the results (Down opens
// them again); Enter picks the highlighted one (the first when none is) and never submits the form
// while the list is open; Escape closes the list; Tab closes it and moves on. Stale answers are dropped.
(function () {
  "use strict";

  var DELAY_MS = 150;
  var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  var counter = 0;

  function formatValue(element, value) {
    if (value === null || value === undefined || value === "") return element.getAttribute("data-pb-empty") || "";
    if (typeof value === "boolean") {
      return value ? element.getAttribute("data-pb-yes") || "yes" : element.getAttribute("data-pb-no") || "no";
    }
    if (element.getAttribute("data-pb-format") === "money") return money.format(Number(value));
    return String(value);
  }

  function fillElement(element, value) {
    var tag = element.tagName;
    if (tag === "INPUT" && (element.type === "checkbox" || element.type === "radio")) {
      element.checked = Boolean(value);
    } else if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      element.value = value === null || value === undefined ? "" : String(value);
    } else {
      element.textContent = formatValue(element, value);
      return;
    }
    element.dispatchEvent(new Event("input", { bubbles: true }));
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fillLine(root, item) {
    var line = root.closest("[data-pb-line]");
    if (!line) return;
    line.querySelectorAll("[data-pb-fill]").forEach(function (element) {
      if (root.contains(element)) return;
      fillElement(element, item[element.getAttribute("data-pb-fill")]);
    });
    line.querySelectorAll("[data-pb-filled]").forEach(function (element) { element.hidden = false; });
    line.querySelectorAll("[data-pb-placeholder]").forEach(function (element) { element.hidden = true; });
  }

  function optionContent(option, item) {
    var code = document.createElement("span");
    code.className = "pb-opt-code";
    code.textContent = item.code;
    var name = document.createElement("span");
    name.className = "pb-opt-name";
    name.textContent = item.name;
    var price = document.createElement("span");
    price.className = "pb-opt-price";
    price.textContent = money.format(Number(item.price)) + (item.unit && item.unit !== "each" ? " / " + item.unit : "");
    option.append(code, name, price);
  }

  function Typeahead(root) {
    this.root = root;
    this.input = root.querySelector("[data-pb-input]");
    this.list = root.querySelector("[data-pb-results]");
    this.url = root.getAttribute("data-search-url");
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.sequence = 0;
    this.controller = null;
    this.cache = new Map();
    if (!this.list.id) this.list.id = "pb-results-" + ++counter;
    this.input.addEventListener("input", this.onInput.bind(this));
    this.input.addEventListener("keydown", this.onKey.bind(this));
    this.input.addEventListener("blur", this.onBlur.bind(this));
    this.list.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep focus
    this.list.addEventListener("click", this.onClick.bind(this));
  }

  Typeahead.prototype.onInput = function () {
    clearTimeout(this.timer);
    var query = this.input.value.trim();
    if (!query) { this.sequence++; this.close(); return; }
    this.timer = setTimeout(this.search.bind(this, query), DELAY_MS);
  };

  Typeahead.prototype.search = function (query) {
    var sequence = ++this.sequence;
    var params = new URLSearchParams({ q: query });
    ["kind", "limit"].forEach(function (name) {
      var value = this.root.getAttribute("data-" + name);
      if (value) params.set(name, value);
    }, this);
    var url = this.url + "?" + params.toString();
    if (this.cache.has(url)) { this.show(this.cache.get(url)); return; }
    if (this.controller) this.controller.abort();
    this.controller = new AbortController();
    this.root.classList.add("pb-loading");
    var self = this;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: this.controller.signal })
      .then(function (response) {
        if (!response.ok) throw new Error("search failed: " + response.status);
        return response.json();
      })
      .then(function (body) {
        self.cache.set(url, body.results);
        if (sequence === self.sequence) self.show(body.results);
      })
      .catch(function (error) {
        if (error.name !== "AbortError" && sequence === self.sequence) self.showMessage("The search is not answering; try again.");
      })
      .finally(function () { if (sequence === self.sequence) self.root.classList.remove("pb-loading"); });
  };

  Typeahead.prototype.show = function (items) {
    this.items = items;
    this.active = items.length ? 0 : -1;
    this.list.replaceChildren();
    if (!items.length) { this.showMessage("No active item matches."); return; }
    items.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = this.list.id + "-" + index;
      option.className = "pb-option";
      option.setAttribute("role", "option");
      option.setAttribute("data-index", String(index));
      optionContent(option, item);
      this.list.appendChild(option);
    }, this);
    this.open();
    this.highlight(this.active);
  };

  Typeahead.prototype.showMessage = function (text) {
    var note = document.createElement("li");
    note.className = "pb-none";
    note.setAttribute("role", "option");
    note.setAttribute("aria-disabled", "true");
    note.textContent = text;
    this.items = [];
    this.active = -1;
    this.list.replaceChildren(note);
    this.open();
    this.input.removeAttribute("aria-activedescendant");
  };

  Typeahead.prototype.open = function () {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Typeahead.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Typeahead.prototype.isOpen = function () { return !this.list.hidden; };

  Typeahead.prototype.highlight = function (index) {
    var options = this.list.querySelectorAll(".pb-option");
    if (!options.length) return;
    this.active = (index + options.length) % options.length;
    options.forEach(function (option, i) {
      var on = i === this.active;
      option.classList.toggle("is-active", on);
      option.setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        this.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    }, this);
  };

  Typeahead.prototype.onKey = function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!this.isOpen() && this.items.length) { this.open(); this.highlight(this.active < 0 ? 0 : this.active); }
      else this.highlight(this.active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      this.highlight(this.active - 1);
    } else if (event.key === "Enter") {
      if (!this.isOpen()) return;
      event.preventDefault();
      if (this.items.length) this.pick(this.items[Math.max(this.active, 0)]);
    } else if (event.key === "Escape") {
      if (this.isOpen()) { event.preventDefault(); this.close(); }
    } else if (event.key === "Tab") {
      this.close();
    }
  };

  Typeahead.prototype.onBlur = function () { this.close(); };

  Typeahead.prototype.onClick = function (event) {
    var option = event.target.closest(".pb-option");
    if (option) this.pick(this.items[Number(option.getAttribute("data-index"))]);
  };

  Typeahead.prototype.pick = function (item) {
    if (!item) return;
    this.sequence++; // an answer still on its way must not reopen the list
    clearTimeout(this.timer);
    this.close();
    this.input.value = this.root.hasAttribute("data-pb-clear-on-pick") ? "" : item.code;
    fillLine(this.root, item);
    this.root.dispatchEvent(new CustomEvent("pricebook:pick", { bubbles: true, detail: { item: item } }));
  };

  function init(scope) {
    (scope || document).querySelectorAll("[data-pricebook-typeahead]").forEach(function (root) {
      if (root.pbTypeahead) return;
      root.pbTypeahead = new Typeahead(root);
    });
  }

  // Lines added later get theirs too: on an htmx swap, and at the latest when their box gets the focus
  // (a formset row cloned by app.js). window.pricebookTypeahead.init(element) does it by hand.
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  document.addEventListener("focusin", function (event) {
    var root = event.target.closest && event.target.closest("[data-pricebook-typeahead]");
    if (root && !root.pbTypeahead) root.pbTypeahead = new Typeahead(root);
  });
  window.pricebookTypeahead = { init: init };
})();
