"""HTTP, shared by both doors: `core` (requests, answers, routers), `params` (declared
parameters and bodies), `app` (the App that runs a request through a route), the route modules
(`routes`, `auth_routes`, `chat_routes`, each with its own ROUTER) and `openapi` (the document,
built from the routes). The doors themselves are glyphmemory.server and glyphmemory.aws_lambda."""
