"""The dashboard at `/ui`: server-rendered pages, signed in with an API key."""
