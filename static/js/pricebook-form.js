// The pricebook item form: with a markup, show the price it gives (cost plus markup, half up to the cent,
// as fsm.pricebook.services computes it; the server's figure is the one saved) and lock the price box;
// show the margin as cost and price change. Works on [data-pb-form]; nothing here is required to save.
(function () {
  "use strict";

  var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

  // "1,234.5" -> 123450 (cents), or null when it is not an amount with at most two decimals.
  function cents(text) {
    var match = /^\$?\s*(\d{1,10})(?:\.(\d{0,2}))?$/.exec(String(text || "").replace(/,/g, "").trim());
    if (!match) return null;
    return Number(match[1]) * 100 + Number(((match[2] || "") + "00").slice(0, 2));
  }

  function update(form) {
    var cost = cents(form.elements.cost.value);
    var markup = cents(form.elements.markup_percent.value.replace("%", "")); // hundredths of a percent
    var price = form.elements.price;
    var computed = form.querySelector("[data-pb-computed]");
    var priceCents = cents(price.value);
    if (form.elements.markup_percent.value.trim() && markup !== null && cost) {
      priceCents = Math.floor((cost * (10000 + markup) + 5000) / 10000);
      price.value = (priceCents / 100).toFixed(2);
      price.readOnly = true;
      computed.textContent = "Price from the markup: " + money.format(priceCents / 100) + ". Clear the markup to set the price by hand.";
      computed.hidden = false;
    } else {
      price.readOnly = false;
      computed.hidden = true;
    }
    var margin = form.querySelector("[data-pb-margin]");
    if (priceCents === null) { margin.textContent = ""; return; }
    var kept = priceCents - (cost || 0);
    var percent = priceCents ? " (" + (kept * 100 / priceCents).toFixed(1) + " %)" : "";
    margin.textContent = "Margin " + money.format(kept / 100) + percent;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-pb-form]");
    if (!form) return;
    form.addEventListener("input", function (event) {
      if (["cost", "markup_percent", "price"].indexOf(event.target.name) >= 0) update(form);
    });
    update(form);
  });
})();
