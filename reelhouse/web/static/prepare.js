// "Prepare for streaming" buttons (admins): POST …/prepare starts a job that makes every
// HLS rendition ahead of time; its progress is polled from /api/jobs/{id}.
"use strict";
(() => {
  for (const button of document.querySelectorAll("button.prepare")) {
    const status = button.closest(".file").querySelector(".prepare-status");
    const say = (text) => { status.textContent = text; status.hidden = false; };
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const r = await fetch("/api/library/media-files/" + button.dataset.fileId + "/prepare",
                              { method: "POST", credentials: "same-origin", headers: window.reelhouse.csrfHeaders() });
        const job = await r.json();
        if (!r.ok) throw new Error(job.detail || r.statusText);
        for (;;) {
          const j = await (await fetch("/api/jobs/" + job.id, { credentials: "same-origin" })).json();
          const p = j.progress || {};
          if (j.state === "done") { say("Ready for streaming."); break; }
          if (j.state === "failed" || j.state === "cancelled") throw new Error(j.error || j.state);
          say("Preparing… " + (p.tracks ? (p.done || 0) + " of " + p.tracks + " tracks" : "") +
              (j.message ? " (" + j.message + ")" : ""));
          await new Promise((ok) => setTimeout(ok, 1000));
        }
      } catch (err) {
        say("Could not prepare: " + err.message);
      } finally {
        button.disabled = false;
      }
    });
  }
})();
