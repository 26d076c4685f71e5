"""What the web pages and the REST API share: who is asking and may they, errors, parameters, settings,
middleware, and delivering notifications after a response. Neither door imports the other."""
