// Watch party page: the WebSocket client, the server-clock estimate and drift correction.
//
// The server is the authority: its snapshot says "at server time `at` the position is
// `position` (s), advancing at `rate` while playing". This page keeps an NTP-style
// estimate of the server clock (ping/pong, lowest round trip of the last 8, refreshed
// every 2 s) and steers its <video> towards where it should be:
//   drift < 40 ms: nothing · up to 2 s: playbackRate nudged in proportion to the drift
//   (1 % per 10 ms, at most ±20 %) until back in sync · beyond: seek; and right after a
//   stall (the position stopped advancing), a drift over 120 ms is jumped over with one
//   seek rather than worked off for seconds (the rules and numbers: drift.js).
// Starting (play, seek while playing, join, reload) is an "alignment": seek to where the
// party will be a moment ahead, wait for the frame, start at that moment.
// Buffering (no data for 250 ms while it should play, or a slow seek) is reported so the
// party waits; "ready" follows when the player can play again.
"use strict";
(() => {
  const root = document.getElementById("party");
  if (!root) return;
  const code = root.dataset.code;
  const video = document.getElementById("player");
  const $ = (id) => document.getElementById(id);
  const playBtn = $("party-play"), seekBar = $("party-seek"), timeLabel = $("party-time");
  const banner = $("party-banner"), note = $("party-control-note"), list = $("participants");

  // -- the player takes a URL: direct play today; an HLS playlist plugs in here -------
  function attachSource(v, url) {
    if (/\.m3u8(\?|$)/.test(url) && !v.canPlayType("application/vnd.apple.mpegurl") && window.Hls) {
      const hls = new window.Hls();
      hls.loadSource(url);
      hls.attachMedia(v);
      return;
    }
    v.src = url;
  }
  attachSource(video, root.dataset.streamUrl);
  // A failed load (network gone, source unreachable) is retried: the party waits meanwhile.
  let reloads = 0;
  video.addEventListener("error", () => {
    if (typeof stalled === "function") stalled();
    setTimeout(() => { attachSource(video, root.dataset.streamUrl); video.load(); }, Math.min(5000, 500 * 2 ** reloads++));
  });
  video.addEventListener("canplay", () => { reloads = 0; });

  // -- clock ---------------------------------------------------------------------------
  const localNow = () => (performance.timeOrigin + performance.now()) / 1000;
  const clock = {
    samples: [],
    offset: 0,
    add(t0, server, t1) {
      if (t1 < t0) return;
      const s = { rtt: t1 - t0, offset: server - (t0 + t1) / 2 };
      // Two honest samples differ by at most half their round trips together; further off,
      // a clock jumped (performance.now() stops while the machine sleeps): start afresh.
      const best = this.samples.length ? this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a)) : null;
      if (best && Math.abs(s.offset - best.offset) > (s.rtt + best.rtt) / 2 + 0.05) this.samples = [];
      this.samples.push(s);
      if (this.samples.length > 8) this.samples.shift();
      this.offset = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a)).offset;
    },
  };
  const serverNow = () => localNow() + clock.offset;

  // -- state ---------------------------------------------------------------------------
  let ws = null, me = null, auth = null, epoch = 0, retry = 0, closedForGood = false, waiting = null;
  let aligning = false, correcting = false, alignLead = 0.5, startLag = 0.03;
  let buffering = false, stallTimer = null;
  const send = (msg) => { if (ws && ws.readyState === 1) ws.send(JSON.stringify({ v: 1, ...msg })); };

  function expected(now) {
    if (!auth) return 0;
    let pos = auth.position;
    if (auth.state === "playing" && now > auth.at) pos += (now - auth.at) * auth.rate;
    if (auth.duration) pos = Math.min(pos, auth.duration);
    return Math.max(0, pos);
  }
  // Playing, or about to: a film that has run to its end is not (play then starts it over).
  const running = () => auth && (auth.state === "playing" || auth.state === "waiting") &&
    !(auth.duration && expected(serverNow()) >= auth.duration);
  // ?sync=naive turns the clock and the correction off: the page obeys each message as it
  // arrives (play now, pause now, seek to the position sent), as simple sync players do.
  // benchmarks/party_drift.py measures it as the peer.
  const naive = new URLSearchParams(location.search).get("sync") === "naive";
  const canControl = () => auth && me && (auth.mode === "collaborative" || auth.host_id === me.id ||
                                          auth.acting_host_id === me.id);

  // -- buffering reports ---------------------------------------------------------------
  function setBuffering(on) {
    if (on === buffering) return;
    buffering = on;
    send({ type: on ? "buffering" : "ready" });
  }
  function stalled() {
    if (stallTimer) return;
    stallTimer = setTimeout(() => {
      stallTimer = null;
      if (video.readyState < 3 || video.seeking) setBuffering(true);
    }, 250);
  }
  function unstalled() {
    if (stallTimer) { clearTimeout(stallTimer); stallTimer = null; }
    if (video.readyState >= 3 && !video.seeking) setBuffering(false);
  }
  video.addEventListener("waiting", () => { stallAt = performance.now() / 1000; stalled(); });
  video.addEventListener("seeking", stalled);
  ["canplay", "canplaythrough", "playing", "seeked"].forEach((e) => video.addEventListener(e, unstalled));

  // -- steering ------------------------------------------------------------------------
  const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  function seekTo(pos) {
    return new Promise((resolve) => {
      if (Math.abs(video.currentTime - pos) < 0.005 && video.readyState >= 3) { resolve(); return; }
      const done = () => { video.removeEventListener("seeked", done); resolve(); };
      video.addEventListener("seeked", done);
      video.currentTime = pos;
      setTimeout(done, 8000);
    });
  }
  async function ready(timeoutMs) {
    const until = performance.now() + timeoutMs;
    while (video.readyState < 3 && performance.now() < until) await sleep(20);
  }

  // Start playing in step: seek to where the party will be at server time T, then start at T.
  async function align() {
    if (aligning || !auth) return;
    aligning = true;
    const mine = epoch;
    try {
      for (let attempt = 0; attempt < 4 && mine === epoch; attempt++) {
        const now = serverNow();
        const T = Math.max(auth.at, now + alignLead);
        video.pause();
        video.playbackRate = 1;
        const t0 = performance.now();
        await seekTo(expected(T) + startLag);
        await ready(8000);
        if (mine !== epoch || auth.state !== "playing") return;
        const cost = (performance.now() - t0) / 1000;
        const wait = T - serverNow();
        if (wait < -0.03) {  // too slow: try again with more time
          alignLead = Math.min(3, Math.max(alignLead * 1.5, cost * 1.5 + 0.1));
          continue;
        }
        if (wait > 0.015) await sleep((wait - 0.012) * 1000);
        while (serverNow() < T) { /* the last few ms: spin for a precise start */ }
        if (mine !== epoch) return;
        await video.play().catch(() => {});
        alignLead = Math.max(0.3, Math.min(alignLead, cost * 1.5 + 0.15));
        setTimeout(() => learnStartLag(mine), 400);
        return;
      }
      video.play().catch(() => {});
    } finally {
      aligning = false;
    }
  }
  // How late playback really starts after play(): measured once started, and used as a
  // head start on the next alignment. A start that went wrong (a stall on a busy
  // machine: more than 150 ms off within the first 1.5 s) is redone, at most twice.
  let redone = 0;
  function learnStartLag(mine) {
    if (mine !== epoch || video.paused || !auth || auth.state !== "playing" || aligning) return;
    const drift = video.currentTime - expected(serverNow());
    if (Math.abs(drift) < 0.3) startLag = Math.max(0, Math.min(0.25, startLag - drift * 0.7));
    if (Math.abs(drift) > 0.15 && redone < 2) { redone++; align(); return; }
    setTimeout(() => checkStart(mine), 800);
  }
  function checkStart(mine) {
    if (mine !== epoch || video.paused || !auth || auth.state !== "playing" || aligning) return;
    const drift = video.currentTime - expected(serverNow());
    if (Math.abs(drift) > 0.15 && redone < 2) { redone++; align(); }
  }

  // A stall (the position stopped advancing: no data, or a starved CPU) leaves a drift
  // that 5 % would take seconds to undo: right after one, a drift over 120 ms is jumped
  // over instead — a seek while playing, to where the party will be once the seek is done.
  let lastPos = null, lastLocal = 0, stallAt = -1e9, lastJump = -1e9, seekCost = 0.08;
  function jump() {
    const t0 = performance.now();
    lastJump = t0 / 1000;
    const done = () => {
      video.removeEventListener("seeked", done);
      const cost = (performance.now() - t0) / 1000;
      if (cost < 1) seekCost = Math.max(0.02, Math.min(0.5, 0.7 * seekCost + 0.3 * cost));
    };
    video.addEventListener("seeked", done);
    video.currentTime = expected(serverNow() + seekCost);
  }

  function obey() {
    if (!auth) return;
    if (auth.state === "playing") {
      if (Math.abs(video.currentTime - auth.position) > 0.5 && !video.seeking && video.paused) video.currentTime = auth.position;
      if (video.paused) video.play().catch(() => {});
    } else {
      if (!video.paused) video.pause();
      if (Math.abs(video.currentTime - auth.position) > 0.04) video.currentTime = auth.position;
    }
  }

  function steer() {
    if (naive) return;
    if (auth && auth.state === "playing" && video.readyState < 3) stalled();
    if (!auth || aligning || video.readyState < 1) return;
    const now = serverNow();
    if (auth.state !== "playing") {
      if (!video.paused) video.pause();
      video.playbackRate = 1;
      correcting = false;
      lastPos = null;
      if (Math.abs(video.currentTime - auth.position) > 0.01 && !video.seeking) video.currentTime = auth.position;
      return;
    }
    if (auth.duration && expected(now) >= auth.duration - 0.05) return;
    if (video.paused) { lastPos = null; align(); return; }
    const t = performance.now() / 1000;
    if (lastPos !== null && t - lastLocal > 0.05 &&
        video.currentTime - lastPos < 0.5 * (t - lastLocal) * video.playbackRate) stallAt = t;
    lastPos = video.currentTime;
    lastLocal = t;
    if (video.seeking) return;
    const drift = video.currentTime - expected(now);
    const step = window.ReelhouseDrift.decide(drift, correcting, t - stallAt, t - lastJump);  // drift.js
    if (step.action === "align") { correcting = false; align(); return; }
    if (step.action === "jump") { jump(); return; }
    if (step.action === "settle") {
      correcting = false;
      if (video.playbackRate !== 1) video.playbackRate = 1;
      return;
    }
    correcting = true;
    if (Math.abs(video.playbackRate - step.rate) > 0.002) video.playbackRate = step.rate;
  }
  setInterval(steer, 100);

  // -- messages --------------------------------------------------------------------------
  // Members arrive whole in "welcome", then only those that changed ("members", "gone"),
  // or whole again in a state message with "full" (this tab fell behind and lost changes).
  let members = new Map();
  function onState(msg, full) {
    const party = msg.party;
    // Each change of the party has a higher version; the server forwards only newer ones,
    // and this page keeps to that too (a reconnect's welcome starts afresh: auth is null).
    if (auth && party.version < auth.version) return;
    // The party moved on to another file (a Jellyfin app's SyncPlay queue): the page
    // reloads for it (its title, a fresh signed stream URL) and joins again.
    if (auth && party.media_file_id !== auth.media_file_id) {
      closedForGood = true;
      video.pause();
      showBanner("The party plays another film — loading it…");
      location.reload();
      return;
    }
    if (full) members = new Map();
    (msg.members || []).forEach((m) => members.set(m.id, m));
    (msg.gone || []).forEach((id) => members.delete(id));
    party.participants = [...members.values()]
      .sort((a, b) => a.joined_at - b.joined_at || a.id - b.id)
      .map((m) => ({ ...m, host: m.id === party.host_id,
                     status: !m.connected ? "disconnected" : m.buffering ? "buffering" : party.state }));
    const event = msg.event || null;
    const prev = auth;
    auth = party;
    const moved = !prev || prev.state !== party.state || prev.at !== party.at || prev.position !== party.position;
    if (moved) {
      epoch++;
      redone = 0;
      correcting = false;
      if (naive) {
        if (prev && party.state === "playing" && prev.position !== party.position) video.currentTime = party.position;
        obey();
      } else if (party.state === "playing") align(); else steer();
    }
    render(event);
  }

  function finish(text) {
    closedForGood = true;
    showBanner(text);
    video.pause();
  }
  // A reconnect refused at the handshake (the party ended meanwhile, the session expired)
  // reaches the page as close code 1006, like a network error: the REST API says which.
  async function whyRefused() {
    try {
      const r = await fetch("/api/parties/" + code, { credentials: "same-origin", headers: { accept: "application/json" } });
      if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return true; }
      if (r.status === 404) { finish("This party no longer exists."); return true; }
      if (r.ok && (await r.json()).state === "ended") { finish("This party has ended."); return true; }
    } catch (_) { /* the network is still down: retry */ }
    return false;
  }

  // The queue panel (party_queue.js) listens: "reelhouse:party-queue" when the party's
  // queue changed, "reelhouse:party-socket" {up} when this socket joined or closed.
  const tell = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));

  // Close codes after which reconnecting cannot help: the server said no. 1000 normal
  // closure (left), 1008 policy violation (RFC 6455 §7.4.1: too many messages or
  // connections, reconnecting too often), and ours: 4400 bad request, 4401 signed out,
  // 4403 no longer granted, 4404 no such party, 4410 ended.
  const FINAL_CLOSES = [1000, 1008, 4400, 4401, 4403, 4404, 4410];
  // A connection that lasted this long (ms) was a good one: the next loss starts the
  // back-off afresh. (Reset on open, a server that accepts and closes at once was
  // called back every 300 ms for ever.)
  const GOOD_CONNECTION = 10000;
  // Milliseconds before reconnect attempt ``attempt`` (0, 1, …): exponential from 0.5 s,
  // capped at 15 s, with "equal jitter" (half of it fixed, half random; ``rand`` in
  // [0, 1)) so the members of a party that lost the server do not all return at once.
  // The browser's "online" event cuts the wait short (the network is back).
  function backoff(attempt, rand) {
    const d = Math.min(15000, 500 * 2 ** Math.min(attempt, 16));
    return d / 2 + rand * d / 2;
  }
  function closedWhy(e) {
    if (e.code === 4410 || (auth && auth.state === "ended")) return "This party has ended.";
    if (e.code === 1008) return "Disconnected by the server: " + (e.reason || "policy violation") +
      ". Not reconnecting — reload the page to join again.";
    if (e.code === 4403) return e.reason || "You no longer have access to this film.";
    return e.reason || "Disconnected.";
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/parties/" + code + "/ws";
    ws = new WebSocket(url);
    let pinger = null, opened = false, openedAt = 0;
    ws.onopen = () => {
      opened = true;
      openedAt = Date.now();
      clock.samples = [];
      for (let i = 0; i < 8; i++) setTimeout(() => send({ type: "ping", t0: localNow() }), i * 60);
      pinger = setInterval(() => send({ type: "ping", t0: localNow() }), 2000);
      if (buffering) { buffering = false; }
    };
    ws.onmessage = (e) => {
      const t1 = localNow();
      const msg = JSON.parse(e.data);
      if (msg.type === "pong") clock.add(msg.t0, msg.server, t1);
      else if (msg.type === "welcome") {
        me = msg.you;
        if (clock.samples.length === 0) clock.offset = msg.server - t1;
        auth = null;
        onState(msg, true);
      } else if (msg.type === "state") onState(msg, msg.full === true);
      else if (msg.type === "ended") { closedForGood = true; onState(msg, msg.full === true); }
      else if (msg.type === "queue") tell("reelhouse:party-queue");
      else if (msg.type === "error") toast(msg.message);
      if (msg.type === "welcome") tell("reelhouse:party-socket", { up: true });
    };
    ws.onclose = (e) => {
      clearInterval(pinger);
      if (closedForGood || FINAL_CLOSES.includes(e.code)) {
        closedForGood = true;
        tell("reelhouse:party-socket", { up: false, final: true });
        if (e.code === 4401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
        showBanner(closedWhy(e));
        video.pause();
        return;
      }
      tell("reelhouse:party-socket", { up: false });
      showBanner("Connection lost — reconnecting…");
      if (opened && Date.now() - openedAt >= GOOD_CONNECTION) retry = 0;
      const again = () => { waiting = setTimeout(() => { waiting = null; connect(); }, backoff(retry++, Math.random())); };
      if (opened) again();
      else whyRefused().then((known) => { if (!known) again(); });
    };
  }

  // -- rendering -------------------------------------------------------------------------
  const hms = (s) => {
    s = Math.max(0, Math.floor(s || 0));
    return Math.floor(s / 3600) + ":" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  };
  function showBanner(text) { banner.textContent = text; banner.hidden = !text; }
  function toast(text) {
    const box = $("toasts"), t = document.createElement("div");
    t.className = "toast";
    t.textContent = text;
    box.appendChild(t);
    setTimeout(() => t.remove(), 4000);
  }
  function describe(ev) {
    if (!ev) return null;
    const who = ev.by === (me && me.id) ? "You" : ev.name || "Someone";
    const at = ev.position != null ? " at " + hms(ev.position) : "";
    switch (ev.kind) {
      case "play": return who + " played" + at;
      case "pause": return who + " paused" + at;
      case "seek": return who + " jumped to " + hms(ev.position);
      case "buffering": return "Waiting for " + ev.name + "…";
      case "host": return (ev.by === (me && me.id) ? "You are" : ev.name + " is") + " the host now";
      case "mode": return who + (ev.mode === "collaborative" ? " let everyone control playback" : " took back control");
      case "leave": return ev.name + " left the party";
      case "join": return ev.name + " joined";
      case "disconnect": return ev.name + " lost the connection";
      case "resumed": return "Everyone is ready — playing";
      case "end": return who + " ended the party";
      case "stop": return who + " stopped";
    }
    return null;
  }
  function render(event) {
    if (!auth) return;
    const text = describe(event);
    if (text) toast(text);
    const waitingFor = auth.participants.filter((p) => p.buffering && p.connected).map((p) => p.name);
    if (auth.state === "ended") showBanner("This party has ended.");
    else if (auth.state === "waiting") showBanner("Waiting for " + (waitingFor.join(", ") || "everyone") + "…");
    else showBanner("");
    const control = canControl() && auth.state !== "ended";
    [playBtn, $("party-back"), $("party-fwd"), seekBar].forEach((el) => { el.disabled = !control; });
    playBtn.textContent = running() ? "❚❚ Pause" : "▶ Play";
    note.textContent = control ? "" : auth.state === "ended" ? "" : "The host controls playback in this party.";
    if (auth.duration) seekBar.max = String(auth.duration);
    const isHost = me && auth.host_id === me.id;
    $("host-tools").hidden = !isHost;
    $("party-collab").checked = auth.mode === "collaborative";
    list.replaceChildren(...auth.participants.map((p) => {
      const li = document.createElement("li");
      li.dataset.userId = String(p.id);
      li.dataset.status = p.status;
      const name = document.createElement("span");
      name.className = "participant-name";
      name.textContent = p.name + (me && p.id === me.id ? " (you)" : "");
      li.appendChild(name);
      if (p.host) {
        const badge = document.createElement("span");
        badge.className = "host-badge";
        badge.textContent = "Host";
        li.appendChild(badge);
      }
      const status = document.createElement("span");
      status.className = "status status-" + p.status;
      status.textContent = p.status;
      li.appendChild(status);
      if (isHost && !p.host && auth.state !== "ended") {
        const make = document.createElement("button");
        make.type = "button";
        make.className = "button ghost make-host";
        make.textContent = "Make host";
        make.addEventListener("click", () => send({ type: "host", to: p.id }));
        li.appendChild(make);
      }
      return li;
    }));
  }
  setInterval(() => {
    const pos = auth ? expected(serverNow()) : 0;
    timeLabel.textContent = hms(pos);
    if (auth) playBtn.textContent = running() ? "❚❚ Pause" : "▶ Play";
    if (document.activeElement !== seekBar) seekBar.value = String(pos);
  }, 250);

  // -- controls ----------------------------------------------------------------------------
  // A pause says where the party was when pressed: it reaches the server a one-way trip later.
  playBtn.addEventListener("click", () => {
    send(running() ? { type: "pause", position: expected(serverNow()) } : { type: "play" });
  });
  // Seeks leave at most one per SEEK_GAP ms: the first at once, the last of a burst when
  // the gap ends. A held arrow key on the seek bar (about 30 changes a second) or a held
  // Enter on ±10 s sent one message each, and past ws_messages_per_second (20, burst 40)
  // the server closed the host's socket for flooding: the page stopped.
  const SEEK_GAP = 250, SEEK_STEP = 5;
  let seekSentAt = -Infinity, seekLater = null, seekTimer = null;
  function requestSeek(position) {
    const wait = SEEK_GAP - (performance.now() - seekSentAt);
    seekLater = position;
    if (seekTimer !== null) return;
    const go = () => {
      seekTimer = null;
      seekSentAt = performance.now();
      send({ type: "seek", position: seekLater });
    };
    if (wait <= 0) go();
    else seekTimer = setTimeout(go, wait);
  }
  $("party-back").addEventListener("click", () => requestSeek(Math.max(0, expected(serverNow()) - 10)));
  $("party-fwd").addEventListener("click", () => requestSeek(expected(serverNow()) + 10));
  seekBar.addEventListener("change", () => requestSeek(Number(seekBar.value)));
  // Arrow keys on the seek bar move SEEK_STEP s (the bar's step, 0.1 s, made a keyboard
  // seek through a film thousands of presses long), from the bar's value while keys
  // follow each other, else from where the party is now.
  let keyedAt = -Infinity;
  seekBar.addEventListener("keydown", (e) => {
    const dir = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[e.key];
    if (!dir || seekBar.disabled || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    const base = performance.now() - keyedAt < 1500 ? Number(seekBar.value) : expected(serverNow());
    keyedAt = performance.now();
    const end = Number(seekBar.max) > 0 ? Number(seekBar.max) : Infinity;
    const position = Math.min(end, Math.max(0, base + dir * SEEK_STEP));
    seekBar.value = String(position);
    requestSeek(position);
  });
  $("party-collab").addEventListener("change", (e) => send({ type: "mode", mode: e.target.checked ? "collaborative" : "host" }));
  $("copy-invite").addEventListener("click", async () => {
    const field = $("invite-url");
    try { await navigator.clipboard.writeText(field.value); toast("Invite link copied"); }
    catch (_) { field.focus(); field.select(); toast("Select the link and copy it with Ctrl+C"); }
  });

  // For tests and the curious: the page's view of the party.
  window.reelParty = {
    serverNow, clock, video,
    state: () => auth,
    expected: () => expected(serverNow()),
    send: (type, extra) => send({ type, ...(extra || {}) }),
    backoff,
  };
  if (root.dataset.ended === "yes") { showBanner("This party has ended."); return; }
  window.addEventListener("online", () => {
    if (waiting === null || closedForGood) return;
    clearTimeout(waiting);
    waiting = null;
    connect();
  });
  connect();
})();
