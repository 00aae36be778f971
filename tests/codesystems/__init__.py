"""Tests of codesystems."""
