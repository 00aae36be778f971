"""ValueSet ``$expand``: compose evaluation, filters, entries, nesting and paging."""
