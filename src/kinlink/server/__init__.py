"""Running kinlink as a service: the ASGI application that joins the web pages and the API, and uvicorn."""
