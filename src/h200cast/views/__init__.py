"""Views: units, tidy frames, Altair charts and figures, text tables, prose and notebook helpers."""
