"""The product's domain: the storyboard and render spec, scenes, renders, publications,
usage events, presets, pricing, prompt tokens, ids and the clock.

Plain data and rules, importing nothing but pydantic and the standard library (a test
holds it so): every other part of the product builds on it, and it on nothing.
"""
