"""The dashboard's static files (served at ``/ui`` by ``gymie.server.ui``): no Python here."""
