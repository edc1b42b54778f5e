"""Tests of the command line: in-process against the in-memory cluster
(``conftest.py``'s ``cli`` fixture), and a few end to end in child processes."""
