"""Tests of svs."""
