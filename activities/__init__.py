"""Every side effect of the orchestrator: email now; documents and links later."""
