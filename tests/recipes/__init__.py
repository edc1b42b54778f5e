"""Tests of txarakoon.recipes: the sans-IO core, and update()/increment()
with both cluster clients through failovers made by held replies."""
