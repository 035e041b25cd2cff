"""The auditor's tools: verify chains and receipts, export, replay to a point in time, history."""
