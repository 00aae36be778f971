"""Scale-out: one writer, read replicas, PostgreSQL as the shared registry, releases pushed by content address
(docs/scale-out.md)."""
