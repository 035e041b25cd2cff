"""Members' personal data at the county (issue 15; docs/personal-data.md).

Nodes seal each member's `personal` under a key of that member's before logging it
(`shared.personal`); the keys reach the county outside the archive, by request-reply on each
node's keys subject (`responder`), and are kept here wrapped under the county's master key, a
file outside the database (`master`, `store`). The county alone can compare ID numbers, through
a keyed index (`index`); every read is masked, and a reveal is a right that is recorded
(`view`, `reveals`).
"""
