// The customer's estimate page: the signature pad (npm signature_pad) fills the form's "signature"
// field with a PNG data URL; the total of the chosen option with its ticked add-ons comes from the
// server (htmx, hx-trigger="change" on the form); this only asks for it once at load.
(function () {
  "use strict";
  var form = document.getElementById("accept-form");
  if (!form) return;
  var canvas = form.querySelector("canvas[data-signature-pad]");
  var input = form.querySelector("input[name=signature]");
  if (canvas && input && window.SignaturePad) {
    var pad = new window.SignaturePad(canvas, { penColor: "#1b2430", minWidth: 1, maxWidth: 2.8 });
    var width = 0;
    var resize = function () {
      if (canvas.offsetWidth === width) return;
      width = canvas.offsetWidth;
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    };
    resize();
    window.addEventListener("resize", resize);
    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      input.value = "";
    });
    form.addEventListener("submit", function () {
      input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
  }
  // The chosen card stands out; a ticked add-on chooses its option too.
  function mark() {
    form.querySelectorAll(".doc-option").forEach(function (card) {
      var radio = card.querySelector("input[name=option]");
      card.classList.toggle("is-chosen", !!(radio && radio.checked));
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "addons" && event.target.checked) {
      var radio = event.target.closest(".doc-option").querySelector("input[name=option]");
      if (radio && !radio.checked) radio.checked = true;
    }
    mark();
  });
  mark();
  if (form.querySelector("input[name=option]:checked") && window.htmx) {
    window.htmx.trigger(form, "change");
  }
})();
