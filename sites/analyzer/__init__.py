"""The config analyzer: reads a firewall's current configuration and says, per flow the guide
needs, allowed / blocked / unknown with the lines that decide (docs/analyzer.md). Pure: no
Django, no I/O."""
