"""Tests of terminology."""
