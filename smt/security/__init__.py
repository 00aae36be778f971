"""Who may write (``auth``: bearer tokens, roles) and what was written (``audit``: the append-only trail)."""
