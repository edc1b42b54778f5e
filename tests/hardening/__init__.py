"""Hardening: fuzzing, byte-offset fault injection, memory and backpressure
under stress, and the equivalence of the codec's two decoding paths.

Bounded for CI: the whole package runs in about a minute with
``HYPOTHESIS_PROFILE=ci``. Stress sizes run only with ``TXARAKOON_SLOW=1``
(tests marked ``slow``); ``TXARAKOON_FUZZ_EXAMPLES`` raises the number of
response-fuzzing examples (10,000 by default).
"""
