"""HTTP: the application object, its routes and OpenAPI document, and the local server."""
