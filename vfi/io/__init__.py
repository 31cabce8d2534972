"""Files in and out: probing, decoding, encoding, muxing, still images, atomic publication."""
