"""Provider knowledge that explains records: code tables and their meaning."""
