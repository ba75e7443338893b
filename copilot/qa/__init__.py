"""Quality checks for the agents' own replies: chat exports in, a report per agent, rule and day out."""
