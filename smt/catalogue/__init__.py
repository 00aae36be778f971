"""What terminologies exist, as declared: the catalogue of ``terminologies/*.toml`` (canonical URLs, aliases, OIDs,
providers, concept IRI bases). It reads configuration only, so every layer may consult it."""
