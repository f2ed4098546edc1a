"""The database: engine and migrations, tables, and the admin queries over the prediction log."""
