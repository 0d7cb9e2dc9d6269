"""The browser UI: server-rendered pages (Jinja2) with a little vanilla JS."""
