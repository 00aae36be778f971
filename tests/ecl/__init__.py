"""Tests of ecl."""
