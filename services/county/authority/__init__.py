"""What a node may say (issue 14): the rule table (`rules`), who each node is (`speakers`), and the
screen that decides, per entity and in business order, which archived events the projections see
(`screen`). docs/authority.md is the rule table for readers; a test keeps the two equal."""
