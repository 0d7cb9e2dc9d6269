// The one JSON API client of the pages: reelhouse.api(method, url, body, options).
// Sends the session cookie, JSON bodies (or a FormData as is), and turns an error reply
// into an Error whose message is the API's `detail`. A 401 means the session ended: the
// page goes to the login form, unless options.stayOn401 (a wrong current password).
// Every state change carries the page's CSRF token (X-CSRF-Token): the server's proof
// where a proxy strips Origin and Sec-Fetch-Site (reelhouse/api/security.py).
"use strict";
window.reelhouse = window.reelhouse || {};
window.reelhouse.csrfHeaders = function csrfHeaders(headers = {}) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) headers["x-csrf-token"] = meta.content;
  return headers;
};
window.reelhouse.api = async function api(method, url, body, options = {}) {
  const opts = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (method !== "GET" && method !== "HEAD") window.reelhouse.csrfHeaders(opts.headers);
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers["content-type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, opts);
  } catch (err) {
    throw new Error("the server cannot be reached (" + err.message + ")");
  }
  if (response.status === 401 && !options.stayOn401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new Error("your session has ended; log in again");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : response.status + " " + response.statusText;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
};
