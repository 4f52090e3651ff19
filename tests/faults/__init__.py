"""Helpers for the fault tests: a cuttable TCP proxy, seeding, and real-process runners."""
