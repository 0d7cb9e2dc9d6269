// "Fix match" on a movie or show page (admins): search TMDB, pick a result, or set the
// title and year by hand. The API locks the item, so later scans keep the choice.
"use strict";
(() => {
  const box = document.querySelector("[data-fix-match]");
  if (!box) return;
  const base = `/api/library/${box.dataset.kind}/${box.dataset.id}`;
  const status = box.querySelector(".match-status");
  const results = box.querySelector(".match-results");

  const api = window.reelhouse.api;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(candidates) {
    results.replaceChildren();
    status.textContent = candidates.length ? `${candidates.length} result(s) on TMDB` : "Nothing found on TMDB.";
    for (const c of candidates) {
      const li = el("li", "match-result card");
      if (c.poster_url) {
        const img = el("img");
        img.src = c.poster_url;
        img.alt = "";
        img.loading = "lazy";
        li.append(img);
      }
      const text = el("div", "match-text");
      text.append(el("strong", "", `${c.title}${c.year ? ` (${c.year})` : ""}`));
      text.append(el("span", "muted", ` · ${Math.round(c.confidence * 100)} % · TMDB ${c.tmdb_id}`));
      if (c.overview) text.append(el("p", "match-overview muted", c.overview));
      li.append(text);
      const pick = el("button", "button", "Use this");
      pick.type = "button";
      pick.addEventListener("click", async () => {
        pick.disabled = true;
        status.textContent = "Saving…";
        try {
          await api("PUT", `${base}/match`, { tmdb_id: c.tmdb_id });
          location.reload();
        } catch (err) {
          status.textContent = err.message;
          pick.disabled = false;
        }
      });
      li.append(pick);
      results.append(li);
    }
  }

  box.querySelector(".match-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = (name) => event.target.elements.namedItem(name);
    const params = new URLSearchParams({ query: field("query").value.trim() });
    if (field("year").value) params.set("year", field("year").value);
    status.textContent = "Searching TMDB…";
    results.replaceChildren();
    try {
      render(await api("GET", `${base}/match?${params}`));
    } catch (err) {
      status.textContent = err.message;
    }
  });

  box.querySelector(".match-edit").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = (name) => event.target.elements.namedItem(name);
    const year = field("year").value;
    const body = { title: field("title").value.trim(), year: year ? Number(year) : null };
    status.textContent = "Saving…";
    try {
      await api("PATCH", base, body);
      location.reload();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  const refresh = box.querySelector(".match-refresh");
  if (refresh) {
    refresh.addEventListener("click", async () => {
      refresh.disabled = true;
      status.textContent = "Reading the NFO and asking TMDB…";
      try {
        await api("POST", `${base}/refresh`);
        location.reload();
      } catch (err) {
        status.textContent = err.message;
        refresh.disabled = false;
      }
    });
  }

  const unlock = box.querySelector(".match-unlock");
  if (unlock) {
    unlock.addEventListener("click", async () => {
      try {
        await api("DELETE", `${base}/lock`);
        location.reload();
      } catch (err) {
        status.textContent = err.message;
      }
    });
  }
})();
