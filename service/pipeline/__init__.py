"""One source through the whole chain: detect → track → sightings → locate → rules → de-duplicate → database."""
