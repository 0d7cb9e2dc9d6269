"""Background jobs with persistent progress (:mod:`.runner`)."""
