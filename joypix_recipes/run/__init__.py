"""A run: the session a command sets up, the runner, its journal, progress, outcomes, report and notifications."""
