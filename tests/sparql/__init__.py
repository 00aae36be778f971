"""Tests of sparql."""
