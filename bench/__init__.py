"""Benchmarks of txarakoon, each measured against a ceiling in the same run.

Run ``python -m bench`` (or ``python bench/run.py``) from the repository root;
``python -m bench --help`` lists the options. See ``bench/README.rst``.
"""
