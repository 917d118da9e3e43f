"""Exchange-shaped dialects for the fake exchange, each with an ``install(exchange)`` for its REST routes."""
