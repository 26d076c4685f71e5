"""What a person record is, defined once: its fields and the checks that turn a row into a record, dates
as registrars write them, and the status its history implies. Pure (no database, no I/O): the importer, the
web forms, the API schemas and the exports all derive from these definitions."""
