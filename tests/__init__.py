"""SMT test suite: folders mirror the packages (terminology, codesystems, loaders, api, store, …)."""
