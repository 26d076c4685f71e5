"""Open-source reports as stored evidence: documents, sightings (records of kind "report"), mentions."""
