"""The Textual app: one screen per wizard step, small widgets, styles in app.tcss. Imports core only."""
