"""The logship command: search, replay, repair and check a logship stack from a laptop.

A thin shell over the layer (``logship``): commands parse options, call the layer's functions, and render.
Nothing in the layer imports this package or its libraries (click, rich).
"""
