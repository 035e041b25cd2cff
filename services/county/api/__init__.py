"""The county's query API: roster, dual management, alerts, figures, node health, audit views."""
