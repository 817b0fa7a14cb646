"""Tables, verdicts and figures for the replication report notebook."""
