"""The timeline: the draft in the local engine's short-key JSON, prompt reading, and edits applied to it."""
