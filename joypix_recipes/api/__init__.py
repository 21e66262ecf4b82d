"""The JoyPix/NemoVideo HTTP client: endpoints, auth, SSE turns, retries. Knows nothing of recipes."""
