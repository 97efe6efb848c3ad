"""The vocabulary of the orchestrator: pydantic models shared by every layer."""
