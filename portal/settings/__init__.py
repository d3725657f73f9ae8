"""Settings split into base (safe defaults), dev, test and production."""
