"""Formats shared by the loaders and the engines: FHIR JSON resources → release model, terminology code syntax.

Modules here import only the model and the errors, so that a loader (which reads files) and a code system
provider (which serves releases) apply one rule written once.
"""
