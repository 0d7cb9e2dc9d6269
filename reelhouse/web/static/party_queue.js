// The party page's play queue panel: the party's queue (the SyncPlay queue Jellyfin
// apps edit too), the playing entry marked; add a film found by search, remove, move
// up/down, previous/next. Reads GET /api/parties/{code}/queue (every 3 s, and after each
// change), edits through POST (reelhouse/api/routes/parties.py). A refused change is a toast.
"use strict";
(function () {
  const root = document.getElementById("party-queue");
  if (!root) return;
  const code = root.dataset.code, url = "/api/parties/" + encodeURIComponent(code) + "/queue";
  const list = document.getElementById("queue-items"), api = window.reelhouse.api;
  let shown = "";

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
  function render(queue) {
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
  }
  async function refresh() {
    try { render(await api("GET", url)); } catch (err) { /* not a member yet: the socket joins */ }
  }
  async function edit(body) {
    try { render(await api("POST", url, body)); } catch (err) { note(err.message); }
  }
  document.getElementById("queue-prev").addEventListener("click", () => edit({ op: "previous" }));
  document.getElementById("queue-next").addEventListener("click", () => edit({ op: "next" }));
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
  setInterval(refresh, 3000);
})();
