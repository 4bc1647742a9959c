// The technician's phone: running clocks, the signature pad, htmx error swaps, no double taps.
// Loaded with a CSP nonce after app.js (and, on the job page, after signature_pad from npm).
(function () {
  "use strict";

  // --- Running clocks: <span data-since="ISO time" data-base-minutes="12">, redrawn every 20 s. --------
  function duration(minutes) {
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return hours ? hours + " h " + (rest < 10 ? "0" : "") + rest + " min" : rest + " min";
  }

  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (isNaN(since)) return;
      var base = parseInt(el.getAttribute("data-base-minutes") || "0", 10);
      var running = Math.max(0, Math.floor((Date.now() - since) / 60000));
      el.textContent = duration(base + running);
    });
  }
  tick();
  window.setInterval(tick, 20000);

  // --- Signature pad (npm signature_pad): the drawing goes into the form as a PNG data URL. ----------
  function setUpPad(form) {
    var canvas = form.querySelector("canvas[data-signature-pad]");
    var input = form.querySelector("input[name=data_url]");
    if (!canvas || !input || !window.SignaturePad) return;
    var pad = new window.SignaturePad(canvas, { penColor: "#1b2430", minWidth: 1, maxWidth: 2.8 });
    var width = 0;

    // The canvas's pixels follow its CSS size and the screen's density; keep the strokes on resize.
    function resize() {
      if (canvas.offsetWidth === width) return;
      width = canvas.offsetWidth;
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }
    resize();
    window.addEventListener("resize", resize);
    var folded = form.closest("details");  // "Collect another signature": sized once it is opened
    if (folded) folded.addEventListener("toggle", resize);

    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      input.value = "";
    });
    form.addEventListener("submit", function () {
      input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
  }
  document.querySelectorAll("form[data-signature-form]").forEach(setUpPad);

  // --- A refused plain form comes back as the whole page: bring its first error into view. ----------
  var refused = document.querySelector(".t-page .has-error");
  if (refused) {
    refused.scrollIntoView({ block: "center" });
    var field = refused.querySelector("textarea, input:not([type=hidden])");
    if (field) field.focus({ preventScroll: true });
  }

  // --- htmx: a refusal (400/403/409) comes back as the section with the message; show it. ------------
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ([400, 403, 409].indexOf(status) === -1 || !elt || !elt.closest("[data-swap-errors]")) return;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });

  // --- No double taps: a plain form[data-once] disables its buttons once it is on its way. -----------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-once]")) return;
    // After this turn of the loop, so that the pressed button's name and value are still sent.
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  // Back from another page (the browser's cache): the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once] button:disabled").forEach(function (button) {
      button.disabled = false;
    });
  });
})();
