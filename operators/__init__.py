"""Domain logic: pure functions and small state machines, testable without servers."""
