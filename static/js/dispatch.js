// The dispatch board. Drag a queued job onto a technician's row (day view: at a time, snapped to 15
// minutes; week view: onto a day, first free time), drag a visit to another time, technician or day
// (the week view keeps its time of day), drag a visit's right edge to change its length. Every drop is
// checked first (POST /dispatch/check/, a dry run): conflicts open a dialog, an overlap saves only with
// "Save anyway". A refused or canceled drop snaps back. Clicks open the detail panel. The live refresh
// (htmx polling in the page) waits while a drag, a dialog or a save is under way.
// Loaded with a CSP nonce; no inline handlers; positions are set through the CSSOM only.
(function () {
  "use strict";
  const root = document.getElementById("dispatch");
  if (!root) return;

  const SNAP = 15;
  const SHORTEST = 15;
  const DAY = 24 * 60;
  const THRESHOLD = 5; // pixels before a press becomes a drag (less is a click)
  const KINDS = {
    overlap: "Overlap",
    missing_skill: "Missing skill",
    outside_hours: "Outside hours",
    arrival_missed: "Arrival missed",
  };
  const urls = {
    board: root.dataset.boardUrl,
    check: root.dataset.checkUrl,
    schedule: root.dataset.scheduleUrl,
    move: root.dataset.moveUrl,
    visit: root.dataset.visitUrl,
    job: root.dataset.jobUrl,
  };
  const message = document.getElementById("dispatch-message");
  const detail = document.getElementById("board-detail");
  const dialog = document.getElementById("conflict-dialog");

  let busy = false; // a drag, a dialog or a save: the live refresh waits
  let drag = null; // the press or drag under way
  let swallowClick = false; // the click that ends a drag is not a click on the block
  let scroll = null; // scroll positions kept across a refresh of the board region
  let refreshing = false; // our own refresh after a save (keeps the scroll, like the live refresh)

  // --- Small helpers -------------------------------------------------------------------------------

  function say(text, bad) {
    window.clearTimeout(say.timer);
    message.textContent = text || "";
    message.hidden = !text;
    message.classList.toggle("bad", !!bad);
    if (text) say.timer = window.setTimeout(function () { message.hidden = true; }, bad ? 9000 : 5000);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(minutes) {
    const h = Math.floor(minutes / 60) % 24, m = minutes % 60;
    return ((h + 11) % 12 + 1) + (m ? ":" + pad(m) : "") + (h < 12 ? "a" : "p");
  }

  function localTime(dateText, minutes) { // "2030-06-03", 555 -> "2030-06-03T09:15" (business time)
    return dateText + "T" + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function dayLabel(dateText) {
    const day = new Date(dateText + "T12:00:00");
    return day.toLocaleDateString(undefined, {weekday: "short", month: "short", day: "numeric"});
  }

  function urlFor(template, id) { return template.replace(/\/0\/$/, "/" + id + "/"); }

  function post(url, fields) {
    const body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) {
      const value = fields[name];
      if (value !== null && value !== undefined && value !== "") body.append(name, value);
    });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": root.dataset.csrf, "X-Requested-With": "fetch", "Accept": "application/json"},
    }).then(function (response) {
      return response.json()
        .catch(function () { return {detail: "The server answered " + response.status + ": nothing was saved."}; })
        .then(function (json) { return {ok: response.ok, status: response.status, json: json}; });
    });
  }

  // --- The board region: refresh, live updates, scroll kept ----------------------------------------

  function region() { return document.getElementById("board-region"); }

  function refresh() {
    const query = region() ? region().dataset.query : "";
    refreshing = true;
    return window.htmx.ajax("GET", urls.board + (query ? "?" + query : ""), {target: "#board-region", swap: "outerHTML"})
      .finally(function () { refreshing = false; });
  }

  // The day view opens on the working day (or on now, today), not on midnight.
  function scrollToWork() {
    const box = document.getElementById("board-scroll"), grid = dayGrid();
    if (!box || !grid || grid.scrollWidth <= box.clientWidth) return;
    const techColumn = grid.querySelector(".dg-corner").offsetWidth;
    const now = grid.querySelector(".now-line");
    const starts = Array.from(grid.querySelectorAll(".dg-work, .visit"), function (el) { return el.offsetLeft; });
    if (now) box.scrollLeft = now.offsetLeft - techColumn - (box.clientWidth - techColumn) / 4;
    else if (starts.length) box.scrollLeft = Math.min.apply(null, starts) - 8;
  }

  function isPoll(event) { // the element that asked (detail.elt is the swap target in htmx:beforeSwap)
    const elt = (event.detail.requestConfig || {}).elt || event.detail.elt;
    return !!elt && elt.id === "board-poll";
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (busy && isPoll(event)) event.preventDefault(); // never under a drag, a dialog or a save
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "board-region") return;
    if (busy && isPoll(event)) { event.detail.shouldSwap = false; return; }
    const box = document.getElementById("board-scroll"), list = document.getElementById("queue-list");
    scroll = {
      top: box ? box.scrollTop : 0, left: box ? box.scrollLeft : 0, queue: list ? list.scrollTop : 0,
      sameView: refreshing || isPoll(event), // else another day or view: open it on its working hours
    };
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === detail) detail.hidden = false;
    if (!scroll) return;
    const box = document.getElementById("board-scroll"), list = document.getElementById("queue-list");
    if (box) box.scrollTop = scroll.top;
    if (list) list.scrollTop = scroll.queue;
    if (box && scroll.sameView) box.scrollLeft = scroll.left; else scrollToWork();
    scroll = null;
  });

  // --- The detail panel ----------------------------------------------------------------------------

  function openDetail(item) {
    const url = item.dataset.visit ? urlFor(urls.visit, item.dataset.visit) : urlFor(urls.job, item.dataset.job);
    window.htmx.ajax("GET", url, {target: "#board-detail", swap: "innerHTML"});
  }

  function closeDetail() {
    detail.hidden = true;
    detail.replaceChildren();
  }

  document.addEventListener("click", function (event) {
    if (swallowClick) { swallowClick = false; event.preventDefault(); event.stopPropagation(); }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-detail]")) { closeDetail(); return; }
    const book = event.target.closest("[data-book]");
    if (book) { bookSuggestion(book); return; }
    if (event.target.closest("button, a, input, select")) return;
    const item = event.target.closest(".visit, .chip, .q-job");
    if (item) openDetail(item);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && drag) { cancelDrag(); return; }
    if (event.key === "Escape" && !detail.hidden && !dialog.open) { closeDetail(); return; }
    if (event.key !== "Enter") return;
    const item = event.target.closest && event.target.closest(".visit, .chip, .q-job");
    if (item && event.target === item) openDetail(item);
  });

  // --- Geometry ------------------------------------------------------------------------------------

  function dayGrid() { return document.querySelector(".day-grid"); }

  function dayInfo() {
    const grid = dayGrid();
    return {date: grid.dataset.day, first: Number(grid.dataset.firstMinute), span: Number(grid.dataset.spanMinutes)};
  }

  function minutesAt(track, clientX) { // minutes from midnight under the pointer
    const box = track.getBoundingClientRect(), info = dayInfo();
    return info.first + (clientX - box.left) / box.width * info.span;
  }

  function snap(minutes) { return Math.round(minutes / SNAP) * SNAP; }

  function clamp(value, low, high) { return Math.min(Math.max(value, low), high); }

  function firstFreeStart(cell, minutes) { // the week view: where a job fits in that day (free gaps)
    const gaps = (cell.dataset.free || "").split(" ").filter(Boolean).map(function (gap) {
      const ends = gap.split("-").map(Number);
      return {start: Math.ceil(ends[0] / SNAP) * SNAP, end: ends[1]};
    });
    const fits = gaps.find(function (gap) { return gap.end - gap.start >= minutes; });
    return fits ? fits.start : (gaps.length ? gaps[0].start : 8 * 60);
  }

  function rowName(target) {
    const row = target.closest(".dg-row, .wg-row"), name = row && row.querySelector(".tech-name");
    return name ? name.textContent.trim() : "";
  }

  // --- Dragging ------------------------------------------------------------------------------------

  document.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || busy || drag) return;
    if (event.target.closest("button, a, input, select, label")) return;
    const item = event.target.closest(".visit[data-movable], .chip[data-movable], .q-job");
    if (!item) return;
    const resize = !!event.target.closest("[data-grip]") && item.classList.contains("visit");
    drag = {
      item: item, resize: resize, pointerId: event.pointerId, x0: event.clientX, y0: event.clientY, started: false,
      minutes: Number(item.dataset.minutes), label: item.dataset.label || "", target: null, date: null, start: null,
      grab: 0,
    };
    if (item.classList.contains("visit")) {
      const track = item.closest(".dg-track");
      drag.grab = minutesAt(track, event.clientX) - minutesAt(track, item.getBoundingClientRect().left);
    }
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    if (!drag.started) {
      if (Math.hypot(event.clientX - drag.x0, event.clientY - drag.y0) < THRESHOLD) return;
      beginDrag();
    }
    event.preventDefault();
    if (drag.resize) resizeTo(event); else dragTo(event);
  });

  document.addEventListener("pointerup", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const done = drag;
    drag = null;
    if (!done.started) return; // a click: the click handler opens the panel
    swallowClick = true;
    window.setTimeout(function () { swallowClick = false; }, 0);
    drop(done);
  });

  document.addEventListener("pointercancel", function (event) {
    if (drag && event.pointerId === drag.pointerId) cancelDrag();
  });

  // --- The peek: all about a visit over its block (hover or keyboard focus), whatever the block's width

  const peek = document.getElementById("visit-peek");

  function showPeek(block) {
    if (!peek || (drag && drag.started)) return;
    const lines = block.querySelectorAll(".v-name, .v-type, .v-when, .v-meta");
    peek.replaceChildren(...Array.from(lines, function (line) { return line.cloneNode(true); }));
    peek.hidden = false;
    const box = block.getBoundingClientRect();
    const width = peek.offsetWidth, height = peek.offsetHeight;
    const below = box.bottom + 6 + height <= window.innerHeight;
    peek.style.left = clamp(box.left, 8, window.innerWidth - width - 8) + "px";
    peek.style.top = (below ? box.bottom + 6 : box.top - height - 6) + "px";
  }

  function hidePeek() { if (peek) peek.hidden = true; }

  function blockOf(node) { return node && node.closest ? node.closest(".visit") : null; }

  document.addEventListener("mouseover", function (event) {
    const block = blockOf(event.target);
    if (block && !block.contains(event.relatedTarget)) showPeek(block);
  });
  document.addEventListener("mouseout", function (event) {
    const block = blockOf(event.target);
    if (block && !block.contains(event.relatedTarget)) hidePeek();
  });
  document.addEventListener("focusin", function (event) {
    const block = blockOf(event.target);
    if (block) showPeek(block); else hidePeek();
  });
  document.addEventListener("focusout", function (event) { if (blockOf(event.target)) hidePeek(); });
  document.addEventListener("scroll", hidePeek, true);
  document.body.addEventListener("htmx:beforeSwap", hidePeek);

  function beginDrag() {
    hidePeek();
    busy = true;
    drag.started = true;
    drag.item.classList.add("dragging");
    document.body.classList.add(drag.resize ? "is-resizing" : "is-dragging");
    if (!drag.resize) {
      drag.ghost = document.createElement("div");
      drag.ghost.className = "drag-ghost";
      drag.ghost.textContent = drag.label;
      document.body.appendChild(drag.ghost);
    }
    closeDetail();
  }

  function endDrag(d) {
    d.item.classList.remove("dragging");
    document.body.classList.remove("is-dragging", "is-resizing");
    if (d.ghost) d.ghost.remove();
    setTarget(d, null);
  }

  function cancelDrag() {
    const d = drag;
    drag = null;
    if (!d) return;
    endDrag(d);
    removePreview(d);
    busy = false;
  }

  function setTarget(d, target) {
    if (d.target === target) return;
    if (d.target) d.target.classList.remove("drop-target");
    d.target = target;
    if (target) target.classList.add("drop-target");
  }

  function showPreview(d, track, start, minutes) {
    const info = dayInfo();
    if (!d.preview) {
      d.preview = document.createElement("div");
      d.preview.className = "drop-preview";
    }
    if (d.preview.parentNode !== track) track.appendChild(d.preview);
    d.preview.style.left = ((start - info.first) / info.span * 100) + "%";
    d.preview.style.width = (Math.max(minutes, SHORTEST) / info.span * 100) + "%";
    d.preview.textContent = clock(start) + "–" + clock((start + minutes) % DAY);
  }

  function removePreview(d) {
    if (d.preview) d.preview.remove();
    d.preview = null;
  }

  function autoScroll(event) {
    const box = document.getElementById("board-scroll");
    if (!box) return;
    const edge = 48, step = 20, r = box.getBoundingClientRect();
    if (event.clientY > r.bottom - edge && event.clientY < r.bottom + edge) box.scrollTop += step;
    else if (event.clientY < r.top + edge && event.clientY > r.top - edge) box.scrollTop -= step;
    if (event.clientX > r.right - edge && event.clientX < r.right) box.scrollLeft += step;
  }

  function dragTo(event) {
    const d = drag;
    d.ghost.style.transform = "translate(" + (event.clientX + 14) + "px, " + (event.clientY + 12) + "px)";
    autoScroll(event);
    const under = document.elementFromPoint(event.clientX, event.clientY);
    const target = under && under.closest(".dg-track[data-tech], .wg-cell[data-tech]");
    setTarget(d, target);
    if (!target) { removePreview(d); d.ghost.textContent = d.label; return; }
    if (target.classList.contains("dg-track")) {
      d.date = dayInfo().date;
      d.start = clamp(snap(minutesAt(target, event.clientX) - d.grab), 0, DAY - SNAP);
      showPreview(d, target, d.start, d.minutes);
    } else {
      d.date = target.dataset.date;
      d.start = d.item.classList.contains("chip") ? Number(d.item.dataset.start) : firstFreeStart(target, d.minutes);
    }
    d.ghost.textContent = d.label + " → " + rowName(target) + ", " + dayLabel(d.date) + " " + clock(d.start);
  }

  function resizeTo(event) {
    const d = drag, track = d.item.closest(".dg-track");
    d.target = track;
    d.date = dayInfo().date;
    d.start = Number(d.item.dataset.start);
    d.newMinutes = Math.max(SHORTEST, snap(minutesAt(track, event.clientX)) - d.start);
    showPreview(d, track, d.start, d.newMinutes);
  }

  // --- Dropping: dry run, dialog, save -------------------------------------------------------------

  function drop(d) {
    const target = d.target;
    endDrag(d);
    if (!target) { removePreview(d); busy = false; return; }
    const from = d.item.closest("[data-tech]");
    const fields = {start: localTime(d.date, d.start), technician: target.dataset.tech};
    let kind;
    if (d.item.dataset.visit) {
      kind = "move";
      fields.visit = d.item.dataset.visit;
      fields.from_technician = from ? from.dataset.tech : "";
      fields.minutes = d.resize ? d.newMinutes : d.minutes;
      const unchanged = fields.technician === fields.from_technician && fields.minutes === d.minutes &&
        d.start === Number(d.item.dataset.start) && (!target.dataset.date || target === d.item.closest(".wg-cell"));
      if (unchanged) { removePreview(d); busy = false; return; }
    } else {
      kind = "schedule";
      fields.job = d.item.dataset.job;
      fields.minutes = d.minutes;
    }
    if (d.preview) d.preview.classList.add("pending");
    const what = d.label + " → " + rowName(target) + ", " + dayLabel(d.date) + " " +
      clock(d.start) + "–" + clock((d.start + fields.minutes) % DAY);
    propose(kind, fields, what).then(function () { removePreview(d); });
  }

  function bookSuggestion(button) {
    const fields = {job: button.dataset.job, technician: button.dataset.technician, start: button.dataset.start};
    busy = true;
    propose("schedule", fields, button.dataset.label).then(function (saved) { if (saved) closeDetail(); });
  }

  // Check, ask when there is anything to say, save; true when saved. `busy` is cleared at the end.
  async function propose(kind, fields, what) {
    try {
      const check = await post(urls.check, fields);
      if (!check.ok) return refuse(check.json.detail || "That drop is not possible.");
      let confirm = false;
      if (check.json.conflicts.length) {
        if (!(await ask(check.json.conflicts, what))) return refuse("");
        confirm = check.json.blocking;
      }
      let saved = await post(urls[kind], Object.assign({}, fields, {confirm: confirm ? "1" : ""}));
      if (saved.status === 409) { // someone else took the slot meanwhile
        if (!(await ask(saved.json.conflicts || [], what))) return refuse("");
        saved = await post(urls[kind], Object.assign({}, fields, {confirm: "1"}));
      }
      if (!saved.ok) return refuse(saved.json.detail || "Not saved.");
      busy = false;
      say(saved.json.detail);
      await refresh();
      return true;
    } catch (error) {
      return refuse("Network trouble: nothing was saved. Try again.");
    }
  }

  function refuse(reason) {
    busy = false;
    say(reason || "Canceled: nothing was saved.", !!reason);
    return false;
  }

  function ask(conflicts, what) {
    return new Promise(function (resolve) {
      const blocking = conflicts.some(function (c) { return c.blocking; });
      const save = document.getElementById("conflict-save");
      document.getElementById("conflict-title").textContent = blocking ? "This overlaps another visit" : "Check before saving";
      document.getElementById("conflict-what").textContent = what;
      document.getElementById("conflict-list").replaceChildren(...conflicts.map(function (c) {
        const li = document.createElement("li"), kindText = document.createElement("span");
        li.className = c.blocking ? "blocking" : "warning";
        li.dataset.code = c.code;
        kindText.className = "conflict-kind";
        kindText.textContent = KINDS[c.code] || c.code;
        li.append(kindText, c.message); // text nodes: the messages are never parsed as HTML
        return li;
      }));
      save.textContent = blocking ? "Save anyway" : "Save";
      save.classList.toggle("btn-danger", blocking);
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "save");
      });
      dialog.showModal();
    });
  }

  scrollToWork();
})();
