"""The `consult` command, and the infrastructure every process shares: settings, Temporal client, logging."""
