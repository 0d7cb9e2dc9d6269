// Transfers page, keep-offline buttons, the offline-copy notice of the player and the
// Sync button of the sources page. Everything goes through the JSON API (session cookie).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  const api = window.reelhouse.api;

  function size(bytes) {
    if (bytes === null || bytes === undefined) return "?";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i += 1; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function eta(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.round(seconds);
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s left" : s + " s left";
  }

  // -- the transfers page ------------------------------------------------------------
  const table = $("transfer-rows");
  if (table) {
    async function refresh() {
      let rows;
      try { rows = await api("GET", "/api/transfers"); } catch (err) { return; }
      table.replaceChildren(...rows.map((t) => {
        const tr = document.createElement("tr");
        tr.className = "transfer state-" + t.state;
        tr.dataset.id = t.id;
        const cells = [t.id, t.kind, t.remote_path + (t.target_path ? " → " + t.target_path : "")];
        cells.forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text;
          tr.append(td);
        });
        const prog = document.createElement("td");
        if (t.bytes_total) {
          const bar = document.createElement("progress");
          bar.max = t.bytes_total;
          bar.value = t.bytes_done;
          prog.append(bar, " " + size(t.bytes_done) + " / " + size(t.bytes_total));
          if (t.state === "running" && t.rate) {
            prog.append(" · " + size(t.rate) + "/s · " + eta(t.eta_seconds));
          }
        }
        tr.append(prog);
        const state = document.createElement("td");
        state.className = "transfer-state";
        state.textContent = t.state + (t.attempts > 1 ? " (try " + t.attempts + ")" : "");
        if (t.error && t.state !== "done") state.title = t.error;
        if (t.error && (t.state === "failed" || t.state === "queued")) {
          const err = document.createElement("div");
          err.className = "muted small";
          err.textContent = t.error;
          state.append(err);
        }
        tr.append(state);
        const act = document.createElement("td");
        if (t.state === "queued" || t.state === "running") {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "button ghost";
          b.textContent = "Cancel";
          b.addEventListener("click", () => api("POST", "/api/transfers/" + t.id + "/cancel").then(refresh));
          act.append(b);
        }
        tr.append(act);
        return tr;
      }));
      $("transfers-empty").hidden = rows.length > 0;
    }
    refresh();
    setInterval(refresh, 1000);

    const form = $("upload-form");  // admins only: without it the rest of this file must still run
    if (form) form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const file = $("upload-file").files[0];
      const status = $("upload-status");
      if (!file) { status.textContent = "Choose a file first."; status.hidden = false; return; }
      const body = new FormData();
      body.append("source_id", $("upload-source").value);
      body.append("folder", $("upload-folder").value);
      body.append("file", file);
      // XHR for the browser → server part: fetch has no upload progress
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/transfers/upload");
      for (const [name, value] of Object.entries(window.reelhouse.csrfHeaders())) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => {
        status.hidden = false;
        status.textContent = "Sending to reelhouse: " + Math.round(100 * e.loaded / e.total) + " %";
      };
      xhr.onload = () => {
        status.hidden = false;
        if (xhr.status === 201) {
          status.textContent = "Queued: " + file.name;
          form.reset();
        } else {
          let detail = xhr.statusText;
          try { detail = JSON.parse(xhr.responseText).detail; } catch (_) { /* keep */ }
          status.textContent = "Upload refused: " + detail;
        }
        refresh();
      };
      xhr.onerror = () => { status.hidden = false; status.textContent = "The server cannot be reached."; };
      xhr.send(body);
    });
  }

  // -- keep offline (movie and show pages) ---------------------------------------------
  document.querySelectorAll("button[data-offline-scope]").forEach((button) => {
    button.addEventListener("click", async () => {
      const [kind, id] = button.dataset.offlineScope.split(":");
      const url = "/api/library/" + (kind === "movie" ? "movies/" : "seasons/") + id + "/offline";
      const keeping = button.dataset.kept !== "true";
      button.disabled = true;
      try {
        await api(keeping ? "POST" : "DELETE", url);
        button.dataset.kept = String(keeping);
        button.textContent = keeping ? "✓ Kept offline (downloading…)" : "Keep offline";
      } catch (err) {
        button.textContent = "Failed: " + err.message;
      } finally {
        button.disabled = false;
      }
    });
  });

  // -- release a claim / remove a copy (transfers page) -------------------------------------
  document.querySelectorAll("button[data-release-claim], button[data-remove-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const claim = button.dataset.releaseClaim;
      const url = claim ? "/api/offline/claims/" + claim : "/api/offline/copies/" + button.dataset.removeCopy;
      button.disabled = true;
      try {
        await api("DELETE", url);
        // a claim in the admin's list goes alone; a copy, or a claim in "yours", with its line
        (button.closest(".offline-claim") || button.closest("li")).remove();
      } catch (err) {
        button.textContent = "Failed: " + err.message;
        button.disabled = false;
      }
    });
  });

  // -- the player: say when the stream comes from the offline copy ------------------------
  const video = document.getElementById("player");
  if (video && video.dataset.offline === "ready") {
    fetch(video.dataset.streamUrl || video.src, { headers: { range: "bytes=0-0" } }).then((r) => {
      if (r.headers.get("x-reelhouse-served-from") === "offline-copy") {
        const note = $("offline-note");
        note.hidden = false;
      }
      return r.body && r.body.cancel();
    }).catch(() => {});
  }

  // -- sync (sources page) -------------------------------------------------------------
  document.querySelectorAll("button[data-sync]").forEach((button) => {
    button.addEventListener("click", async () => {
      const row = button.closest("li");
      const out = row.querySelector(".sync-status");
      button.disabled = true;
      out.hidden = false;
      out.textContent = "Syncing…";
      try {
        let run = await api("POST", "/api/sources/" + button.dataset.sync + "/sync");
        while (run.state === "running") {
          await new Promise((r) => setTimeout(r, 500));
          run = await api("GET", "/api/syncs/" + run.id);
        }
        out.textContent = run.state === "done"
          ? "Sync: " + run.added + " added, " + run.updated + " updated, " + run.deleted +
            " deleted, " + run.errors.length + " errors"
          : "Sync failed: " + run.errors.join("; ");
      } catch (err) {
        out.textContent = "Sync failed: " + err.message;
      } finally {
        button.disabled = false;
      }
    });
  });
})();
