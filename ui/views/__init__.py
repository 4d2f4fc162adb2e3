"""The main window's views: household, village, contacts, patrols and rectifications."""
