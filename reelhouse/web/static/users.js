// Users page (admins): add a user, change role, disable, grant sources, reset a
// password, delete. Every change is one PATCH/POST/DELETE of /api/users.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  const api = window.reelhouse.api;

  function say(text) {
    $("users-status").textContent = text;
  }

  $("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/users", { name: $("new-name").value.trim(),
        password: $("new-user-password").value, role: $("new-role").value });
      location.reload();
    } catch (err) {
      $("user-status").textContent = "Not added: " + err.message;
    }
  });

  async function patch(row, body, done) {
    try {
      await api("PATCH", "/api/users/" + row.dataset.id, body);
      say(row.dataset.name + ": " + done);
    } catch (err) {
      say(row.dataset.name + ": " + err.message);
      setTimeout(() => location.reload(), 1500);
    }
  }

  document.querySelectorAll("#users-table tbody tr").forEach((row) => {
    row.querySelector("[data-action=role]").addEventListener("change", (e) =>
      patch(row, { role: e.target.value }, "role is now " + e.target.value));
    row.querySelector("[data-action=disabled]").addEventListener("change", (e) =>
      patch(row, { disabled: e.target.checked }, e.target.checked ? "disabled (signed out)" : "enabled"));
    const grants = () => ({
      restrict_sources: row.querySelector("[data-action=restrict]").checked,
      sources: [...row.querySelectorAll("[data-action=source]:checked")].map((c) => Number(c.value)),
    });
    row.querySelectorAll("[data-action=restrict], [data-action=source]").forEach((box) =>
      box.addEventListener("change", () => patch(row, grants(), "sources saved")));
    row.querySelector("[data-action=password]").addEventListener("click", () => {
      const password = prompt("New password for " + row.dataset.name + " (their sessions end):");
      if (password) patch(row, { password }, "password reset; signed out everywhere");
    });
    row.querySelector("[data-action=delete]").addEventListener("click", async () => {
      if (!confirm("Delete " + row.dataset.name + "?")) return;
      try {
        await api("DELETE", "/api/users/" + row.dataset.id);
        row.remove();
        say(row.dataset.name + " deleted");
      } catch (err) {
        say(row.dataset.name + ": " + err.message);
      }
    });
  });

  // -- API keys --------------------------------------------------------------------
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await api("POST", "/api/keys", { name: $("key-name").value.trim(),
        user_id: Number($("key-user").value) });
      $("new-key-value").textContent = made.key;
      $("new-key").hidden = false;
      $("key-status").textContent = "Key \u201c" + made.name + "\u201d made.";
      event.target.querySelector("#key-name").value = "";
    } catch (err) {
      $("key-status").textContent = "Not made: " + err.message;
    }
  });

  document.querySelectorAll("#keys-table [data-action=revoke]").forEach((button) => {
    const row = button.closest("tr");
    button.addEventListener("click", async () => {
      if (!confirm("Revoke the key " + row.dataset.name + "? Programs using it stop working.")) return;
      try {
        await api("DELETE", "/api/keys/" + row.dataset.id);
        row.remove();
        $("key-status").textContent = "Key \u201c" + row.dataset.name + "\u201d revoked.";
      } catch (err) {
        $("key-status").textContent = row.dataset.name + ": " + err.message;
      }
    });
  });
})();
