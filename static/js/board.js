// The pipeline board: drag cards between columns (SortableJS), running clocks on unanswered leads.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var csrf = board.getAttribute("data-csrf");
  var message = document.getElementById("board-message");
  var dialog = document.getElementById("lost-dialog");

  function say(text, bad) {
    message.textContent = text;
    message.hidden = !text;
    message.classList.toggle("bad", !!bad);
    if (text) window.setTimeout(function () { message.hidden = true; }, 6000);
  }

  function askLostReason() {
    return new Promise(function (resolve) {
      var form = document.getElementById("lost-form");
      form.reset();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        var reason = document.getElementById("lost-reason").value;
        resolve(dialog.returnValue === "confirm" && reason ? {reason: reason, note: document.getElementById("lost-note").value} : null);
      });
      dialog.showModal();
    });
  }

  function adjustCount(state, delta) {
    var badge = board.querySelector('[data-count="' + state + '"]');
    if (!badge) return;
    var n = parseInt(badge.textContent.replace(/,/g, ""), 10) || 0;
    badge.textContent = String(Math.max(n + delta, 0));
  }

  function revert(event) {
    var from = event.from;
    var ref = from.children[event.oldIndex] || null;
    from.insertBefore(event.item, ref);
  }

  function send(card, state, extra) {
    var body = new URLSearchParams({state: state});
    if (extra) { body.append("reason", extra.reason); body.append("note", extra.note || ""); }
    return fetch(card.getAttribute("data-move-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "X-Requested-With": "fetch"}
    }).then(function (response) {
      return response.json().then(function (json) { return {ok: response.ok, json: json}; });
    });
  }

  async function onDrop(event) {
    var card = event.item;
    var from = card.getAttribute("data-state");
    var to = event.to.getAttribute("data-state");
    if (from === to) return;
    var extra = null;
    if (to === "lost") {
      extra = await askLostReason();
      if (!extra) { revert(event); return; }
    }
    card.classList.add("moving");
    var result;
    try { result = await send(card, to, extra); } catch (e) { result = {ok: false, json: {detail: "Network error: try again."}}; }
    card.classList.remove("moving");
    if (!result.ok) { revert(event); say(result.json.detail || "That move is not allowed.", true); return; }
    adjustCount(from, -1);
    if (["won", "lost", "spam"].indexOf(to) >= 0) {
      card.remove();
      var badge = event.to.querySelector(".badge");
      if (badge) badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
      say("Lead moved to " + to + ".");
      return;
    }
    adjustCount(to, 1);
    var wrapper = document.createElement("div");
    wrapper.innerHTML = result.json.card;  // rendered and escaped by the server
    card.replaceWith(wrapper.firstElementChild);
    tick();
  }

  board.querySelectorAll(".column-cards").forEach(function (list) {
    new window.Sortable(list, {
      group: "pipeline", animation: 120, draggable: ".lead-card", ghostClass: "lead-ghost", forceFallback: true,
      onAdd: onDrop
    });
  });

  function format(seconds) {
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    if (m >= 60) { var h = Math.floor(m / 60); return h + "h " + (m % 60) + "m waiting"; }
    return m + "m " + (s < 10 ? "0" : "") + s + "s waiting";
  }

  function tick() {
    var now = Date.now();
    board.querySelectorAll(".clock[data-arrived]").forEach(function (clock) {
      var seconds = (now - Date.parse(clock.getAttribute("data-arrived"))) / 1000;
      clock.textContent = format(Math.max(seconds, 0));
      var late = seconds > parseInt(clock.getAttribute("data-threshold"), 10);
      clock.classList.toggle("late", late);
      clock.closest(".lead-card").classList.toggle("late", late);
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
