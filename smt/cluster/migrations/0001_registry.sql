-- The shared registry of an SMT cluster: which releases the replicas serve, the audit trail of writes, and the
-- generation number every change bumps (announced on the channel smt_releases with LISTEN/NOTIFY).

CREATE TABLE smt_release (
    id           text PRIMARY KEY,            -- the release id (a new one per load)
    kind         text NOT NULL,               -- CodeSystem, ValueSet, ConceptMap
    url          text NOT NULL,
    version      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    checksum     text NOT NULL,               -- sha256 of the release's archive: its content address
    size         bigint NOT NULL,             -- bytes of the archive
    artefacts    jsonb NOT NULL,              -- format version of each compiled artefact
    manifest     jsonb NOT NULL,              -- the manifest as published (status excepted, see the column)
    modified     double precision NOT NULL,   -- the manifest's modification time on the writer (Last-Modified)
    published_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX smt_release_url ON smt_release (url, version);

CREATE TABLE smt_audit (
    id         text PRIMARY KEY,              -- the record's uuid (the AuditEvent id)
    recorded   text NOT NULL,
    action     text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    agent      text NOT NULL,
    release_id text NOT NULL,
    url        text NOT NULL,
    version    text NOT NULL,
    kind       text NOT NULL,
    before     jsonb,
    after      jsonb
);
CREATE INDEX smt_audit_release ON smt_audit (release_id);

CREATE TABLE smt_generation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO smt_generation (generation) VALUES (0);
