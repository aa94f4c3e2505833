"""HTTP: routes and request/response schemas only; decisions live in `app.services`."""
