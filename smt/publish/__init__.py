"""Publication: diffs between versions, vendor sync, downloads, the Atom feed and linked-data views."""
