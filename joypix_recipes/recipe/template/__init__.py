"""Recipe templates: sandboxed Jinja2 (render) and what one render may cost (limits)."""
