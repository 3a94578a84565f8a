-- The warehouse lives next to the Dagster instance database on the same server.
CREATE DATABASE kalshi_wx OWNER dagster;
