// Waiting what the server says before asking again (issue 14): a 503 of reelhouse
// (queue_full, source_busy, encoder_limit: reelhouse/api/errors.py) carries Retry-After,
// RFC 9110 §10.2.3, in seconds or as an HTTP date. The player waits that long (at most
// MAX_WAIT_S each time, MAX_WAITED_S in all for one request) before asking again, instead
// of hls.js's own 1-8 s back-off or the <video> element's giving up.
"use strict";
(() => {
  const MAX_WAIT_S = 30;     // one wait, at most (a bigger Retry-After is cut to this)
  const MAX_WAITED_S = 120;  // all waits of one request; past it the refusal stands

  // Seconds the answer asks to wait (1..MAX_WAIT_S), or null: not a 503 with Retry-After.
  function seconds(status, header) {
    if (status !== 503 || !header) return null;
    const text = header.trim();
    let s = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
    if (!Number.isFinite(s)) return null;
    return Math.min(MAX_WAIT_S, Math.max(1, Math.ceil(s)));
  }

  // An hls.js loader class (config ``loader``) over ``Base`` (hls.js's own): a 503 with
  // Retry-After is asked again after that wait, ``onWait(seconds, xhr)`` called first
  // (the page says "retrying…"); hls.js sees the refusal only past MAX_WAITED_S (then its
  // own retry policy applies). Abort and destroy end a wait.
  function loader(Base, onWait) {
    return class RetryAfterLoader {
      constructor(config) {
        this.config = config;
        this.inner = new Base(config);
        this.timer = null;
      }
      get stats() { return this.inner.stats; }
      get context() { return this.inner.context; }
      getCacheAge() { return this.inner.getCacheAge ? this.inner.getCacheAge() : null; }
      getResponseHeader(name) { return this.inner.getResponseHeader ? this.inner.getResponseHeader(name) : null; }
      abort() { clearTimeout(this.timer); this.timer = null; this.inner.abort(); }
      destroy() { clearTimeout(this.timer); this.timer = null; this.inner.destroy(); }
      load(context, config, callbacks) {
        let waited = 0;
        const onError = (response, ctx, details, stats) => {
          const header = details && details.getResponseHeader ? details.getResponseHeader("Retry-After") : null;
          const wait = seconds(response && response.code, header);
          if (wait === null || waited + wait > MAX_WAITED_S) {
            callbacks.onError(response, ctx, details, stats);
            return;
          }
          waited += wait;
          onWait(wait, details);
          this.timer = setTimeout(() => {
            this.timer = null;
            this.inner.destroy();
            this.inner = new Base(this.config);
            this.inner.load(context, config, Object.assign({}, callbacks, { onError }));
          }, wait * 1000);
        };
        this.inner.load(context, config, Object.assign({}, callbacks, { onError }));
      }
    };
  }

  window.reelhouseRetryAfter = { seconds, loader, MAX_WAIT_S, MAX_WAITED_S };
})();
