"""From sightings to violation candidates: rules, location de-duplication, evidence, ingest."""
