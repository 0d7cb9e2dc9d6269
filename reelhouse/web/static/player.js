// Player page: ask the server how to play this file in this browser (direct | remux |
// transcode, POST …/playback/plan with what canPlayType / MediaSource.isTypeSupported
// say), then play the file directly or its HLS master through hls.js (quality, audio
// and subtitle menus); resume position, keyboard shortcuts, copy the URLs for mpv / VLC.
"use strict";
(() => {
  const video = document.getElementById("player");
  const note = document.getElementById("player-note");
  const field = document.getElementById("stream-url");
  const copy = document.getElementById("copy-url");
  const copyStatus = document.getElementById("copy-status");
  const modeBadge = document.getElementById("playback-mode");
  const qualityMenu = document.getElementById("quality-menu");
  const audioMenu = document.getElementById("audio-menu");
  const subtitleMenu = document.getElementById("subtitle-menu");

  function show(text) {
    note.textContent = text;
    note.hidden = false;
  }

  // -- what this browser decodes, in FFmpeg's names ------------------------------------
  const VIDEO = { h264: 'video/mp4; codecs="avc1.64001f"', hevc: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
                  vp9: 'video/webm; codecs="vp9"', vp8: 'video/webm; codecs="vp8"',
                  av1: 'video/mp4; codecs="av01.0.04M.08"' };
  // … at 10 bits 4:2:0 (HEVC Main 10, VP9 profile 2, AV1 Main 10-bit): Safari, Edge with
  // the HEVC extension, TVs
  const VIDEO_10BIT = { hevc: 'video/mp4; codecs="hvc1.2.4.L120.90"', vp9: 'video/mp4; codecs="vp09.02.10.10"',
                        av1: 'video/mp4; codecs="av01.0.04M.10"' };
  const AUDIO = { aac: 'audio/mp4; codecs="mp4a.40.2"', mp3: "audio/mpeg", opus: 'audio/webm; codecs="opus"',
                  vorbis: 'audio/webm; codecs="vorbis"', flac: 'audio/mp4; codecs="flac"',
                  ac3: 'audio/mp4; codecs="ac-3"', eac3: 'audio/mp4; codecs="ec-3"' };
  const CONTAINERS = { mp4: "video/mp4", webm: "video/webm", mkv: "video/x-matroska",
                       mov: "video/quicktime", ogg: "video/ogg" };

  function capabilities() {
    const mse = window.MediaSource || window.ManagedMediaSource;
    const plays = (type) => video.canPlayType(type) !== "" ||
      !!(mse && mse.isTypeSupported && mse.isTypeSupported(type));
    const pick = (table, test) => Object.keys(table).filter((k) => test(table[k]));
    const hls = !!(window.Hls && window.Hls.isSupported()) ||
      video.canPlayType("application/vnd.apple.mpegurl") !== "";
    return { containers: pick(CONTAINERS, (t) => video.canPlayType(t) !== ""),
             video: pick(VIDEO, plays), audio: pick(AUDIO, plays), hls,
             video_10bit: pick(VIDEO_10BIT, plays) };
  }

  // -- menus ---------------------------------------------------------------------------
  function fill(menu, options, selected) {
    menu.replaceChildren(...options.map(([value, label]) => {
      const o = document.createElement("option");
      o.value = String(value);
      o.textContent = label;
      return o;
    }));
    menu.value = String(selected);
    menu.parentElement.hidden = options.length < 2;
  }

  function trackLabel(t, i) {
    return t.name || t.lang || "Track " + (i + 1);
  }

  // hls.js: one instance at a time (a burned-in subtitle reloads the master with
  // ?burn=KEY at the current position); the menus' listeners are attached once.
  let hls = null;
  let plan = null;
  let planError = null;     // the server's reason when it could not plan (a 4xx detail)
  let planRefused = null;   // … when it refused to (a 5xx: refusal(), the source's state)
  let burning = null;       // key of the picture subtitle burned in, or null
  let pendingSubtitle = -1; // text track to select once a reload has its tracks

  const levelName = (l) => l ? (l.name === "copy" || !l.height ? "Original" : l.height + "p") : "";
  const qualityOptions = () => [[-1, "Auto" + (hls.autoLevelEnabled && hls.currentLevel >= 0
    ? " (" + levelName(hls.levels[hls.currentLevel]) + ")" : "")]]
    .concat(hls.levels.map((l, i) => [i, levelName(l)]));

  function subtitleOptions() {
    const text = hls ? hls.subtitleTracks.map((t, i) => [i, trackLabel(t, i)]) : [];
    const pictures = (plan ? plan.subtitles : []).filter((t) => !t.text)
      .map((t) => ["burn:" + t.key, t.name + " (burned in)"]);
    return [[-1, "Off"]].concat(text, pictures);
  }

  // Direct play: each text subtitle (embedded or a sidecar) as a <track> of the server's
  // WebVTT (…/hls/subs/KEY.vtt, cue times on the film's timeline), and the menu for them.
  function addTextTracks() {
    const text = plan.subtitles.filter((t) => t.text);
    text.forEach((t) => {
      const el = document.createElement("track");
      el.kind = "subtitles";
      el.label = t.name || t.language || t.key;
      if (t.language) el.srclang = t.language;
      el.src = plan.master_url.replace("/hls/master.m3u8", "/hls/subs/" + encodeURIComponent(t.key) + ".vtt");
      video.appendChild(el);
    });
    Array.from(video.textTracks).forEach((t) => { t.mode = "disabled"; });
    fill(subtitleMenu, [[-1, "Off"]].concat(text.map((t, i) => [i, t.name || t.language || "Track " + (i + 1)]),
                                            subtitleOptions().filter(([v]) => String(v).startsWith("burn:"))), -1);
  }

  // The server's JSON error answer, ``{detail, reason}`` (reelhouse/api/errors.py), to a
  // request hls.js gave up on: from the XHR's body when hls.js kept it, else (``ask``)
  // asked again (a 4xx answers at once).
  const answerOf = (text) => {
    try {
      const b = JSON.parse(text);
      return typeof b.detail === "string" ? { detail: b.detail.slice(0, 300), reason: b.reason || null } : null;
    } catch (_) { return null; }
  };

  async function serverAnswer(data, ask) {
    const xhr = data.networkDetails;
    if (xhr && xhr.response instanceof ArrayBuffer) {
      const found = answerOf(new TextDecoder().decode(xhr.response));
      if (found) return found;
    } else if (xhr && typeof xhr.response === "string") {
      const found = answerOf(xhr.response);
      if (found) return found;
    }
    const url = (data.frag && data.frag.url) || (data.context && data.context.url) || data.url;
    if (!ask || !url) return null;
    try { return answerOf(await (await fetch(url, { credentials: "same-origin" })).text()); }
    catch (_) { return null; }
  }

  // What a refused request means to the viewer, from its status (RFC 9110 §15.6: a 503
  // passes if one waits; 502: the film's source is down; 504: it did not answer in time)
  // and the server's reason; null for other statuses.
  function refusal(status, answer, retrying) {
    const why = answer ? answer.detail.charAt(0).toUpperCase() + answer.detail.slice(1) : null;
    if (status === 503) {
      return (why || "The server is busy; try again in a moment") + (retrying ? " — retrying…" : ".");
    }
    if (status === 502 || status === 504) {
      return (why || (status === 504 ? "The film's source did not answer in time; try again later"
                                     : "The film's source cannot be reached; try again later")) + ".";
    }
    return null;
  }

  function startHls(url, startPosition) {
    if (hls) hls.destroy();
    video.querySelectorAll("track").forEach((el) => el.remove()); // hls.js makes its own
    // a 503 with Retry-After is asked again after that wait (retry_after.js), saying so
    const waits = window.reelhouseRetryAfter;
    const loader = waits.loader(window.Hls.DefaultConfig.loader, async (seconds, xhr) => {
      video.dataset.retryAfter = String(seconds); // for the browser tests
      show(refusal(503, await serverAnswer({ networkDetails: xhr }, false), true));
    });
    hls = new window.Hls({ capLevelToPlayerSize: false, maxBufferLength: 30, startPosition, loader,
                           fragLoadPolicy: { default: { maxTimeToFirstByteMs: 30000,
                             maxLoadTimeMs: 60000, timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
                             errorRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 8000 } } } });
    window.reelhouseHls = hls; // for the browser tests and the curious
    hls.loadSource(url);
    hls.attachMedia(video);
    const E = window.Hls.Events;
    hls.on(E.MANIFEST_PARSED, () => {
      fill(qualityMenu, qualityOptions(), -1);
      fill(subtitleMenu, subtitleOptions(), burning ? "burn:" + burning : -1);
    });
    hls.on(E.LEVEL_SWITCHED, () => {
      fill(qualityMenu, qualityOptions(), hls.autoLevelEnabled ? -1 : hls.currentLevel);
      video.dataset.level = String(hls.currentLevel);
    });
    hls.on(E.AUDIO_TRACKS_UPDATED, () => {
      fill(audioMenu, hls.audioTracks.map((t, i) => [i, trackLabel(t, i)]), hls.audioTrack);
    });
    hls.on(E.AUDIO_TRACK_SWITCHED, () => {
      audioMenu.value = String(hls.audioTrack);
      video.dataset.audioTrack = String(hls.audioTrack);
    });
    hls.on(E.SUBTITLE_TRACKS_UPDATED, () => {
      const options = subtitleOptions();
      fill(subtitleMenu, options, burning ? "burn:" + burning : -1);
      subtitleMenu.parentElement.hidden = options.length < 2;
      if (pendingSubtitle >= 0) {
        hls.subtitleDisplay = true;
        hls.subtitleTrack = pendingSubtitle;
        subtitleMenu.value = String(pendingSubtitle);
        pendingSubtitle = -1;
      }
    });
    hls.on(E.ERROR, async (_, data) => {
      const status = data.response && data.response.code;
      if (status >= 500 && !data.fatal) { // hls.js tries again: say why meanwhile
        show(refusal(status, await serverAnswer(data, false), true) ||
             "The server is busy transcoding for other viewers; retrying…");
      }
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      // A 4xx is the server's answer for good (a segment of a damaged file holds no
      // media, a track is gone): say what it said, not "reload", which cannot help. A
      // 5xx says whether waiting helps (503) or the source is down (502, 504).
      const answer = status >= 400 ? await serverAnswer(data, true) : null;
      const refused = refusal(status, answer, false);
      if (refused) show("Playback stopped: " + refused);
      else if (answer) show("Playback stopped: " + answer.detail + ". Open the HLS URL below in mpv or VLC to try the rest.");
      else show("Playback failed (" + (data.details || "error") + "). Reload the page to try again, " +
                "or open the HLS URL below in mpv or VLC.");
    });
  }

  qualityMenu.addEventListener("change", () => {
    if (hls) hls.currentLevel = Number(qualityMenu.value); // -1: automatic
  });
  audioMenu.addEventListener("change", () => { if (hls) hls.audioTrack = Number(audioMenu.value); });
  subtitleMenu.addEventListener("change", () => {
    const value = subtitleMenu.value;
    if (!hls && !value.startsWith("burn:")) { // direct play: the <track>s of addTextTracks
      Array.from(video.textTracks).forEach((t, i) => { t.mode = i === Number(value) ? "showing" : "disabled"; });
      return;
    }
    if (!plan) return;
    const wanted = value.startsWith("burn:") ? value.slice(5) : null;
    if (wanted !== burning) { // burn in another picture track, or stop burning
      burning = wanted;
      pendingSubtitle = wanted ? -1 : Number(value);
      video.dataset.burn = wanted || "";
      const resume = video.currentTime;
      startHls(plan.master_url + (wanted ? "&burn=" + encodeURIComponent(wanted) : ""), resume);
      video.play().catch(() => {});
      return;
    }
    hls.subtitleDisplay = true;
    hls.subtitleTrack = Number(value);
  });

  async function start() {
    const id = video.dataset.fileId;
    try {
      const r = await fetch("/api/library/media-files/" + id + "/playback/plan", {
        method: "POST", credentials: "same-origin",
        headers: window.reelhouse.csrfHeaders({ "content-type": "application/json" }),
        body: JSON.stringify(capabilities()) });
      if (r.ok) plan = await r.json();
      else {
        const answer = answerOf(await r.text().catch(() => ""));
        if (r.status >= 500) planRefused = refusal(r.status, answer, false); // the source, not the file
        else planError = answer ? answer.detail : null;
      }
    } catch (_) { /* fall back to the file as it is */ }
    if (!plan) {
      video.src = video.dataset.streamUrl;
      modeBadge.textContent = "Direct play";
      return;
    }
    const label = { direct: "Direct play", remux: "Remux (HLS)", transcode: "Transcode (HLS)" }[plan.mode];
    modeBadge.textContent = label;
    modeBadge.title = plan.reason;
    video.dataset.mode = plan.mode;
    if (plan.mode === "direct") {
      video.src = plan.url;
      addTextTracks();
    } else if (window.Hls && window.Hls.isSupported()) {
      startHls(plan.url, -1);
    } else {
      video.src = plan.url; // Safari plays HLS natively
    }
  }

  // -- errors of direct play -----------------------------------------------------------
  // The server's refusal of the stream at ``url`` as the viewer reads it (refusal()), or
  // null when it serves the stream (the browser could not play it) or gave no reason.
  // With ``wait``, a 503 with Retry-After (retry_after.js) is ``{ refused, seconds }``: the
  // player asks again after that many seconds.
  async function streamRefusal(url, wait) {
    if (!url) return null;
    try {
      const r = await fetch(url, { credentials: "same-origin", headers: { range: "bytes=0-0" } });
      if (r.ok) { r.body && r.body.cancel(); return null; }
      const seconds = wait ? window.reelhouseRetryAfter.seconds(r.status, r.headers.get("retry-after")) : null;
      const refused = refusal(r.status, answerOf(await r.text()), seconds !== null);
      return seconds === null ? refused : { refused, seconds };
    } catch (_) { return null; }
  }

  // Direct play refused with a 503 and Retry-After: wait what the server says (at most
  // MAX_WAITED_S in all until it plays), then load the stream again where it was.
  let waited = 0;
  function retryDirect(url, refused, seconds) {
    waited += seconds;
    video.dataset.retryAfter = String(seconds); // for the browser tests
    show("The stream could not start: " + refused);
    const at = video.currentTime;
    setTimeout(() => {
      if (at > 0) video.addEventListener("loadedmetadata", () => { video.currentTime = at; }, { once: true });
      video.src = url;
      video.play().catch(() => {});
    }, seconds * 1000);
  }

  if (video) {
    video.addEventListener("error", async () => {
      if (video.dataset.mode && video.dataset.mode !== "direct") return; // hls.js reports its own
      const err = video.error;
      const what = [video.dataset.container, video.dataset.codecs].filter(Boolean).join(", ");
      // <video> hides the status of an answer it could not play: ask the server once
      // (its first byte) whether it refused the stream, and why
      const src = video.currentSrc;
      const wait = planError ? null : await streamRefusal(src, waited < window.reelhouseRetryAfter.MAX_WAITED_S);
      if (wait && typeof wait === "object") {
        retryDirect(src, wait.refused, wait.seconds);
        return;
      }
      const refused = planError ? null : wait || planRefused;
      if (planError) { // the server could not read the file either: its reason says why
        show("This file cannot be played: " + planError + ".");
      } else if (refused) {
        show("The stream could not start: " + refused);
      } else if (err && err.code === err.MEDIA_ERR_SRC_NOT_SUPPORTED) {
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
    video.addEventListener("playing", () => { note.hidden = true; waited = 0; });
    trackProgress(video);
    keyboard(video);
    start();
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
      fetch(url, { method: "PUT", headers: window.reelhouse.csrfHeaders({ "content-type": "application/json" }),
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

  // Space/K play·pause, ←/→ (J/L) ∓10 s, ↑/↓ volume, M mute, F full screen, C subtitles.
  function keyboard(v) {
    document.addEventListener("keydown", (e) => {
      const tag = (e.target && e.target.tagName) || "";
      if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(tag)) return;
      const key = e.key.toLowerCase();
      const seek = (d) => { v.currentTime = Math.max(0, Math.min((v.duration || 0) - 0.5, v.currentTime + d)); };
      if (key === " " || key === "k") { if (v.paused) v.play(); else v.pause(); }
      else if (key === "arrowleft" || key === "j") seek(-10);
      else if (key === "arrowright" || key === "l") seek(10);
      else if (key === "arrowup") v.volume = Math.min(1, v.volume + 0.1);
      else if (key === "arrowdown") v.volume = Math.max(0, v.volume - 0.1);
      else if (key === "m") v.muted = !v.muted;
      else if (key === "f") {
        if (document.fullscreenElement) document.exitFullscreen(); else v.requestFullscreen().catch(() => {});
      } else if (key === "c" && !subtitleMenu.parentElement.hidden) {
        const opts = Array.from(subtitleMenu.options).map((o) => o.value);
        subtitleMenu.value = opts[(opts.indexOf(subtitleMenu.value) + 1) % opts.length];
        subtitleMenu.dispatchEvent(new Event("change"));
      } else return;
      e.preventDefault();
    });
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
