"""The HTTP edge: ``create_app`` (:mod:`.app`), one router per area, error mapping in
:mod:`.errors` (the only place that knows HTTP status codes)."""
