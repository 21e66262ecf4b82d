"""The command line: parsing, dispatch, the error boundary, and one small module per command."""
