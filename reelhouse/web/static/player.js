// Player page: explain playback errors and copy the stream URL for mpv / VLC.
"use strict";
(() => {
  const video = document.getElementById("player");
  const note = document.getElementById("player-note");
  const field = document.getElementById("stream-url");
  const copy = document.getElementById("copy-url");
  const copyStatus = document.getElementById("copy-status");

  function show(text) {
    note.textContent = text;
    note.hidden = false;
  }

  if (video) {
    video.addEventListener("error", () => {
      const err = video.error;
      const what = [video.dataset.container, video.dataset.codecs].filter(Boolean).join(", ");
      if (err && err.code === err.MEDIA_ERR_SRC_NOT_SUPPORTED) {
        show("This browser cannot play this file" + (what ? " (" + what + ")" : "") +
             ". Copy the stream URL below into mpv or VLC to watch it.");
      } else if (err && err.code === err.MEDIA_ERR_DECODE) {
        show("The browser could not decode this file" + (what ? " (" + what + ")" : "") +
             ". Try mpv or VLC with the stream URL below.");
      } else if (err && err.code === err.MEDIA_ERR_NETWORK) {
        show("The stream was interrupted (is the source reachable?). Reload the page to try again.");
      } else {
        show("Playback failed" + (err && err.message ? ": " + err.message : "") +
             ". Reload the page to get a fresh link, or use the stream URL in mpv or VLC.");
      }
    });
    video.addEventListener("playing", () => { note.hidden = true; });
    trackProgress(video);
  }

  // Resume where this user stopped, and report the position every 10 s, on pause and
  // at the end (PUT /api/library/media-files/{id}/progress; the server applies the
  // 5 % / 90 % rule).
  function trackProgress(v) {
    const id = v.dataset.fileId;
    if (!id) return;
    const url = "/api/library/media-files/" + id + "/progress";
    let lastSent = -1;
    const report = () => {
      if (!isFinite(v.currentTime) || Math.abs(v.currentTime - lastSent) < 1) return;
      lastSent = v.currentTime;
      const body = { position: v.currentTime };
      if (isFinite(v.duration) && v.duration > 0) body.duration = v.duration;
      fetch(url, { method: "PUT", headers: { "content-type": "application/json" },
                   body: JSON.stringify(body), keepalive: true }).catch(() => {});
    };
    v.addEventListener("loadedmetadata", async () => {
      try {
        const r = await fetch(url, { credentials: "same-origin" });
        if (!r.ok) return;
        const p = await r.json();
        if (p.position > 0 && p.position < v.duration) {
          v.currentTime = p.position;
          v.dataset.resumedAt = String(p.position);
        }
      } catch (_) { /* start from the beginning */ }
    }, { once: true });
    setInterval(() => { if (!v.paused) report(); }, 10000);
    v.addEventListener("pause", report);
    v.addEventListener("ended", report);
    window.addEventListener("pagehide", report);
  }

  if (field && copy) {
    field.addEventListener("focus", () => field.select());
    copy.addEventListener("click", async () => {
      let done = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(field.value);
          done = true;
        }
      } catch (_) { /* fall back below */ }
      if (!done) {
        field.focus();
        field.select();
        try { done = document.execCommand("copy"); } catch (_) { done = false; }
      }
      copyStatus.textContent = done ? "Copied — paste it into mpv or VLC."
                                    : "Select the URL and copy it with Ctrl+C.";
    });
  }
})();
