"""Contract-testing toolkit: spec loaders, checks, the pytest plugin and the check command."""
