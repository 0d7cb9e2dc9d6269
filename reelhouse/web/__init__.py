"""The browser UI: server-rendered pages (Jinja2, autoescaped) with a little vanilla JS
that calls the JSON API with the session cookie. No CDN, no npm.

- ``routes``      ``install_web(app)``: mounts ``/static`` and the page routers
- ``guard``       the page user, or a 303 to ``/login?next=…``; ``safe_next``
- ``login``       ``GET/POST /login`` (form), ``POST /logout``
- ``pages``       library grid, movie/show details, player, sources settings
- ``templating``  the Jinja2 environment and ``render``
- ``format``      pure formatting filters (sizes, h:mm:ss, bitrates, …)
- ``templates/``, ``static/`` (app.css, app.js, player.js, sources.js)
"""
