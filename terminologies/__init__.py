"""The catalogue of terminologies (``*.toml``) and the bundled samples: package data, found next to this file."""
