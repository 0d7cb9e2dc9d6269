// Account page: change your password, list your sessions, end one or all others.
// Everything goes through the JSON API with the session cookie.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  const api = window.reelhouse.api;

  function when(iso) {
    return new Date(iso).toLocaleString();
  }

  async function loadSessions() {
    const rows = $("session-rows");
    const sessions = await api("GET", "/api/auth/sessions");
    rows.replaceChildren();
    for (const s of sessions) {
      const tr = document.createElement("tr");
      tr.dataset.id = s.id;
      const device = s.device || s.client || "unknown device";
      for (const text of [device + (s.current ? " (this one)" : ""), s.address, when(s.created_at),
                          when(s.last_seen_at)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement("td");
      if (!s.current) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button ghost";
        button.textContent = "Sign out";
        button.addEventListener("click", async () => {
          await api("DELETE", "/api/auth/sessions/" + s.id);
          await loadSessions();
        });
        td.append(button);
      }
      tr.append(td);
      rows.append(tr);
    }
    $("sessions-status").textContent = sessions.length + (sessions.length === 1 ? " session" : " sessions");
  }

  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("password-status");
    if ($("new-password").value !== $("new-password-again").value) {
      status.textContent = "The two new passwords differ.";
      return;
    }
    try {
      await api("POST", "/api/auth/password",
                { old_password: $("old-password").value, new_password: $("new-password").value },
                { stayOn401: true });
      status.textContent = "Password changed; other sessions signed out.";
      event.target.reset();
      await loadSessions();
    } catch (err) {
      status.textContent = "Not changed: " + err.message;
    }
  });

  $("revoke-others").addEventListener("click", async () => {
    const result = await api("POST", "/api/auth/sessions/revoke-others");
    await loadSessions();
    $("sessions-status").textContent = "Signed out " + result.ended + " other session(s).";
  });

  loadSessions().catch((err) => { $("sessions-status").textContent = err.message; });
})();
