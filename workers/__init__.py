"""The worker process: connects to Temporal and registers the workflows and activities."""
