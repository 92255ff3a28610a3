"""Cross-app tests (browser tests live in tests/browser)."""
