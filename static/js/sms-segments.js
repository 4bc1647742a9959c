// Live SMS segment count under every text box marked data-sms-counter (the textarea itself, or any
// element around textareas). Counts exactly as crm/segments.py: GSM-7 160 / 153 per part (extension
// characters are 2 septets, never split), else UCS-2 70 / 67 per part in UTF-16 units (emoji = 2).
// The line goes in [data-sms-count-for="<textarea id>"] when the page has one, else right after the box.
// Delegated events, so boxes that htmx swaps in are counted too.
(function () {
  "use strict";

  var GSM7_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "^{}\\[~]|€\f";
  var LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };
  var SELECTOR = "textarea[data-sms-counter], [data-sms-counter] textarea";

  function isGsm(ch) {
    return GSM7_BASIC.indexOf(ch) !== -1 || GSM7_EXTENSION.indexOf(ch) !== -1;
  }

  function count(text) {
    var chars = Array.from(text); // code points: an emoji is one entry of length 2
    var encoding = chars.every(isGsm) ? "GSM-7" : "UCS-2";
    var costs = chars.map(function (ch) {
      if (encoding === "GSM-7") return GSM7_EXTENSION.indexOf(ch) !== -1 ? 2 : 1;
      return ch.length;
    });
    var single = LIMITS[encoding][0], part = LIMITS[encoding][1];
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    if (units <= single) {
      return { encoding: encoding, units: units, segments: units ? 1 : 0, remaining: single - units };
    }
    var segments = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > part) { segments += 1; used = 0; }
      used += cost;
    });
    return { encoding: encoding, units: units, segments: segments, remaining: part - used };
  }

  function describe(text) {
    var c = count(text);
    var label = c.encoding === "GSM-7" ? "GSM-7" : "UCS-2: emoji or accents";
    var line = c.units + " characters · " + c.segments + " segment" + (c.segments === 1 ? "" : "s") +
      " (" + label + ") · " + c.remaining + " left";
    return /\{\w+\}/.test(text) ? line + " · before merge fields" : line;
  }

  function output(box) {
    var found = box.id && document.querySelector('[data-sms-count-for="' + box.id + '"]');
    if (found) return found;
    if (!box.smsCount) {
      box.smsCount = document.createElement("div");
      box.smsCount.className = "help sms-count";
      box.smsCount.setAttribute("aria-live", "polite");
      box.insertAdjacentElement("afterend", box.smsCount);
    }
    return box.smsCount;
  }

  function isText(box) {
    // The inbox composer can also send e-mail or chat: only a text has segments.
    var channel = box.form && box.form.querySelector("select[name=channel]");
    return !channel || channel.value === "sms";
  }

  function update(box) {
    output(box).textContent = isText(box) ? describe(box.value) : "";
  }

  function updateAll() {
    document.querySelectorAll(SELECTOR).forEach(update);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(SELECTOR)) update(event.target);
  });
  document.addEventListener("change", updateAll); // the channel, or a saved reply put in the box
  document.addEventListener("reset", function () { window.setTimeout(updateAll, 0); });
  document.addEventListener("htmx:afterSwap", updateAll);
  updateAll();

  window.smsSegments = { count: count, describe: describe };
})();
