"""The bottom of the house: the Interpolator interface, frame helpers, tiles, metrics, devices."""
