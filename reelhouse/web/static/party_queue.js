// The party page's play queue panel: the party's queue (the SyncPlay queue Jellyfin
// apps edit too), the playing entry marked; add a film found by search, remove, move
// up/down, previous/next, repeat (off → all → one, as Jellyfin's apps cycle it) and
// shuffle. Reads GET /api/parties/{code}/queue, edits through POST
// (reelhouse/jellyfin/routes_party_queue.py). A refused change is a toast.
//
// Live: the party's socket (party.js) says "queue" whenever anyone changes the queue
// (a member here, a Jellyfin app through SyncPlay): the panel reads it again at once.
// Only while that socket is down does the panel poll, every FALLBACK_MS (a test may set
// window.reelhouseQueueFallbackMs before the page's scripts run).
"use strict";
(function () {
  const root = document.getElementById("party-queue");
  if (!root) return;
  const code = root.dataset.code, url = "/api/parties/" + encodeURIComponent(code) + "/queue";
  const list = document.getElementById("queue-items"), api = window.reelhouse.api;
  const repeatBtn = document.getElementById("queue-repeat"), shuffleBtn = document.getElementById("queue-shuffle");
  const FALLBACK_MS = Math.min(2 ** 31 - 1, Number(window.reelhouseQueueFallbackMs) || 15000);
  const REPEAT_NEXT = { none: "all", all: "one", one: "none" };
  const REPEAT_LABEL = { none: "🔁 Repeat: off", all: "🔁 Repeat: all", one: "🔂 Repeat: one" };
  let shown = "", current = null, asked = 0, drawn = 0, poll = null;
  // For tests and the curious: whether the socket drives the panel, GETs answered, a
  // read under way, polling.
  const status = window.reelQueue = { live: false, reads: 0, busy: false, polling: false };

  function note(text) {
    const box = document.getElementById("toasts"), t = document.createElement("div");
    t.className = "toast"; t.textContent = text; box.appendChild(t);
    setTimeout(() => t.remove(), 6000);
  }
  function button(label, title, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "button small"; b.textContent = label;
    b.setAttribute("aria-label", title); b.title = title; b.addEventListener("click", onClick);
    return b;
  }
  // Answers may come back out of order (a GET and a POST at once): the newest asked wins.
  function render(queue, n) {
    if (n < drawn) return;
    drawn = n;
    current = queue;
    const key = JSON.stringify(queue);
    if (key === shown) return;
    shown = key;
    list.replaceChildren();
    queue.items.forEach((e, i) => {
      const li = document.createElement("li");
      li.className = "queue-item" + (e.playing ? " playing" : "");
      li.dataset.entry = e.playlist_item_id;
      if (e.playing) li.setAttribute("aria-current", "true");
      const name = document.createElement("span");
      name.className = "queue-title"; name.textContent = (e.playing ? "▶ " : "") + e.title;
      li.append(name,
        button("↑", "Move up", () => edit({ op: "move", playlist_item_id: e.playlist_item_id, index: Math.max(0, i - 1) })),
        button("↓", "Move down", () => edit({ op: "move", playlist_item_id: e.playlist_item_id, index: i + 1 })),
        button("✕", "Remove", () => edit({ op: "remove", playlist_item_id: e.playlist_item_id })));
      list.appendChild(li);
    });
    document.getElementById("queue-empty").hidden = queue.items.length > 0;
    repeatBtn.textContent = REPEAT_LABEL[queue.repeat] || REPEAT_LABEL.none;
    repeatBtn.dataset.mode = queue.repeat;
    repeatBtn.setAttribute("aria-pressed", queue.repeat === "none" ? "false" : "true");
    shuffleBtn.setAttribute("aria-pressed", queue.shuffle ? "true" : "false");
  }
  // One read at a time; a "queue" message meanwhile reads once more after it, so the
  // last read always starts after the last change it was told of.
  let reading = false, again = false;
  async function refresh() {
    if (reading) { again = true; return; }
    reading = status.busy = true;
    try {
      do {
        again = false;
        const n = ++asked;
        try { render(await api("GET", url), n); status.reads++; }
        catch (err) { /* not a member yet: the socket joins, then says so */ }
      } while (again);
    } finally { reading = status.busy = false; }
  }
  async function edit(body) {
    const n = ++asked;
    try { render(await api("POST", url, body), n); } catch (err) { note(err.message); }
  }
  function polling(on) {
    if (on && !poll) poll = setInterval(refresh, FALLBACK_MS);
    if (!on && poll) { clearInterval(poll); poll = null; }
    status.polling = !!poll;
  }
  document.addEventListener("reelhouse:party-queue", refresh);
  document.addEventListener("reelhouse:party-socket", (ev) => {
    status.live = !!ev.detail.up;
    polling(!ev.detail.up && !ev.detail.final);
    if (ev.detail.up) refresh();  // joined (again): whatever changed while it was down
  });

  document.getElementById("queue-prev").addEventListener("click", () => edit({ op: "previous" }));
  document.getElementById("queue-next").addEventListener("click", () => edit({ op: "next" }));
  repeatBtn.addEventListener("click", () => edit({ op: "repeat", repeat: REPEAT_NEXT[(current && current.repeat) || "none"] }));
  shuffleBtn.addEventListener("click", () => edit({ op: "shuffle", shuffle: !(current && current.shuffle) }));
  document.getElementById("queue-add").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const field = document.getElementById("queue-search"), q = field.value.trim();
    if (!q) return;
    try {
      const found = await api("GET", "/api/library/items?type=movie&q=" + encodeURIComponent(q));
      if (!found.items.length) { note("no film matches " + q); return; }
      const movie = await api("GET", "/api/library/movies/" + found.items[0].id);
      if (!movie.files.length) { note("no file of " + movie.title + " to play"); return; }
      field.value = "";
      await edit({ op: "add", media_file_id: movie.files[0].id });
    } catch (err) { note(err.message); }
  });
  refresh();
  const party = document.getElementById("party");
  if (!status.live && !(party && party.dataset.ended === "yes")) polling(true);  // until the socket is up
})();
