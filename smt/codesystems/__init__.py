"""Code system providers: one read interface (``provider``) and its implementations — stored releases,
in-memory request resources, and the terminologies with rules of their own (SNOMED CT, CIM-10)."""
